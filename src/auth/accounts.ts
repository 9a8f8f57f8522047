// Accounts: signing up and checking credentials. Passwords are hashed with bcrypt; a login for a
// name that does not exist still costs one bcrypt comparison, so timing does not tell them apart.
import bcrypt from 'bcrypt';
import { ValidationError } from '../errors.js';
import type { Template } from '../templates/catalogue.js';
import { chooseTemplate } from '../templates/access.js';
import { DuplicateUserError, type Approval, type ServiceAccess, type User, type UserStore } from '../db/stores.js';
import { passwordProblem, signupProblems, type NameRules, type SignupInput } from './validation.js';

export class AccountService {
  private readonly dummyHash: Promise<string>;

  constructor(
    private readonly users: UserStore,
    private readonly options: {
      bcryptCost: number;
      nameRules: NameRules;
      /** Who reaches a new account's service (SERVICE_ACCESS). */
      serviceAccess?: ServiceAccess;
      /** The catalogue a newcomer chooses from (TEMPLATES_FILE or the single default). */
      templates?: readonly Template[];
      /** Told of every new account (the access table). */
      onCreated?: (user: User) => void;
      /** ADMIN_USERS: these names are admins from their signup on. */
      adminUsers?: readonly string[];
    },
  ) {
    // Hashed once, lazily, at the configured cost: compared against when the name is unknown.
    this.dummyHash = bcrypt.hash('spawner-timing-equaliser', options.bcryptCost);
    this.dummyHash.catch(() => undefined);
  }

  /** Creates the account or throws ValidationError with a message per field. */
  async signUp(input: SignupInput, extra: { isAdmin?: boolean; approval?: Approval } = {}): Promise<User> {
    const problems = signupProblems(input, this.options.nameRules) ?? {};
    if (!problems.username && (await this.users.findByUsername(input.username))) problems.username = 'This username is taken.';
    if (!problems.email && (await this.users.findByEmail(input.email)))
      problems.email = 'An account with this e-mail address exists already.';
    const template = this.chosenTemplate(input);
    if (template !== null && typeof template === 'object') problems.template = template.problem;
    if (Object.keys(problems).length > 0) throw new ValidationError(problems);

    const passwordHash = await bcrypt.hash(input.password, this.options.bcryptCost);
    try {
      const user = await this.users.create({
        username: input.username,
        email: input.email,
        passwordHash,
        template: typeof template === 'string' ? template : null,
        isAdmin: extra.isAdmin === true || (this.options.adminUsers ?? []).includes(input.username),
        ...(extra.approval ? { approval: extra.approval } : {}),
        ...(this.options.serviceAccess ? { serviceAccess: this.options.serviceAccess } : {}),
      });
      this.options.onCreated?.(user);
      return user;
    } catch (error) {
      // Two signups for the same name raced past the checks above; the unique index decided.
      if (!(error instanceof DuplicateUserError)) throw error;
      if (error.field === 'username') throw new ValidationError({ username: 'This username is taken.' });
      throw new ValidationError({ email: 'An account with this e-mail address exists already.' });
    }
  }

  /** The template name a newcomer chose (null: the default), or the field's message. */
  private chosenTemplate(input: SignupInput): string | null | { problem: string } {
    if (!input.template) return null;
    const who = { username: input.username, isAdmin: false, allowedTemplates: null };
    const chosen = chooseTemplate(this.options.templates ?? [], input.template, who);
    if (chosen === 'unknown') return { problem: 'Choose one of the templates offered.' };
    if (chosen === 'forbidden') return { problem: 'This template is not open to new accounts.' };
    return chosen.name;
  }

  /** A bcrypt hash of a new password, after the same rules as at signup. */
  async hashNewPassword(password: string): Promise<string> {
    const problem = passwordProblem(password);
    if (problem) throw new ValidationError({ password: problem });
    return bcrypt.hash(password, this.options.bcryptCost);
  }

  /** The user when name (or e-mail) and password match; null otherwise, after the same work. */
  async verify(login: string, password: string): Promise<User | null> {
    const user = login.length > 0 && login.length <= 254 ? await this.users.findByLogin(login) : undefined;
    // bcrypt only reads 72 bytes; longer input is refused at signup, so it can never match here.
    const candidate = Buffer.byteLength(password, 'utf8') <= 72 ? password : '';
    const matches = await bcrypt.compare(candidate, user?.passwordHash ?? (await this.dummyHash));
    return user && matches && candidate.length > 0 ? user : null;
  }
}

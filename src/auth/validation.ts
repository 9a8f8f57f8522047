// The rules for what a person may type. Usernames become host names, container names, volume
// names and Traefik rules, so they are held to a strict allowlist and checked against the names
// Spawner needs for itself.
import { z } from 'zod';
import { RESERVED_NAMES, USERNAME_RE } from '../addressing.js';

export interface NameRules {
  /** Further names to refuse: Spawner's own subdomain and path prefix. */
  reserved: readonly string[];
}

const PASSWORD_MIN_BYTES = 8;
// bcrypt ignores everything past 72 bytes; accepting more would silently weaken long passwords.
const PASSWORD_MAX_BYTES = 72;

export function usernameProblem(value: string, rules: NameRules): string | null {
  if (value.length === 0) return 'Choose a username.';
  if (value.length < 3 || value.length > 32) return 'Use 3 to 32 characters.';
  if (!/^[a-z0-9-]+$/.test(value)) return 'Use only lowercase letters a–z, digits and hyphens.';
  if (value.startsWith('-') || value.endsWith('-')) return 'A username cannot start or end with a hyphen.';
  if (value.includes('--')) return 'A username cannot contain two hyphens in a row.';
  if (!USERNAME_RE.test(value)) return 'Use only lowercase letters a–z, digits and hyphens.';
  if (RESERVED_NAMES.has(value) || rules.reserved.includes(value)) return 'This name is reserved. Please choose another.';
  return null;
}

export function passwordProblem(value: string): string | null {
  const bytes = Buffer.byteLength(value, 'utf8');
  if (bytes < PASSWORD_MIN_BYTES) return `Use at least ${PASSWORD_MIN_BYTES} characters.`;
  if (bytes > PASSWORD_MAX_BYTES) return `Use at most ${PASSWORD_MAX_BYTES} bytes (about 72 plain characters).`;
  return null;
}

const EMAIL_RE =
  /^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$/;

export function emailProblem(value: string): string | null {
  if (value.length === 0) return 'Enter your e-mail address.';
  if (value.length > 254 || !EMAIL_RE.test(value)) return 'Enter a valid e-mail address, like name@example.com.';
  return null;
}

// Anything that is not a single string (a missing field, a repeated one) counts as empty; the
// length rules below then answer with a field message instead of a parser error.
const text = () => z.preprocess((v) => (typeof v === 'string' ? v : ''), z.string());

export const signupForm = z.object({
  username: text().transform((s) => s.trim().toLowerCase()),
  email: text().transform((s) => s.trim()),
  password: text(),
  /** A template name, checked against the catalogue; empty: the catalogue's default. */
  template: text().transform((s) => s.trim()),
});

export const loginForm = z.object({
  username: text().transform((s) => s.trim().toLowerCase()),
  password: text(),
});

/** `template` absent: the catalogue's default (callers other than the form may leave it out). */
export type SignupInput = Omit<z.infer<typeof signupForm>, 'template'> & { template?: string };

/** All problems of a signup form at once, keyed by field, or null when it is fine. */
export function signupProblems(input: SignupInput, rules: NameRules): Record<string, string> | null {
  const problems: Record<string, string> = {};
  const username = usernameProblem(input.username, rules);
  if (username) problems.username = username;
  const email = emailProblem(input.email);
  if (email) problems.email = email;
  const password = passwordProblem(input.password);
  if (password) problems.password = password;
  return Object.keys(problems).length > 0 ? problems : null;
}

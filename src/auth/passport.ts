// Wires passport-local to the account service. Only the user id goes into the session.
import { Passport } from 'passport';
import { Strategy as LocalStrategy } from 'passport-local';
import type { UserStore } from '../db/stores.js';
import type { AccountService } from './accounts.js';

export interface SessionUser {
  id: number;
  username: string;
  email: string;
  /** Read fresh from the row on every request (deserialize), so a demotion counts at once. */
  isAdmin?: boolean;
  /** Signed up, waiting for an admin's approval: sees only the waiting page, gets no container. */
  pending?: boolean;
}

export type PassportInstance = InstanceType<typeof Passport>;

export function createPassport(accounts: AccountService, users: Pick<UserStore, 'findById'>): PassportInstance {
  const passport = new Passport();
  passport.use(
    new LocalStrategy({ usernameField: 'username', passwordField: 'password' }, (login, password, done) => {
      accounts.verify(login.trim().toLowerCase(), password).then(
        // The right password for a disabled account: refused, and the route says why.
        (user) => (user?.disabled ? done(null, false, { message: 'disabled' }) : done(null, user ? toSessionUser(user) : false)),
        (error: unknown) => done(error),
      );
    }),
  );
  passport.serializeUser((user, done) => done(null, (user as SessionUser).id));
  passport.deserializeUser((id: unknown, done) => {
    // A deleted or disabled account simply ends the session (on its next request).
    (typeof id === 'number' ? users.findById(id) : Promise.resolve(undefined)).then(
      (user) => done(null, user && !user.disabled ? toSessionUser(user) : false),
      (error: unknown) => done(error),
    );
  });
  return passport;
}

function toSessionUser(user: { id: number; username: string; email: string; isAdmin?: boolean; approval?: string }): SessionUser {
  return { id: user.id, username: user.username, email: user.email, isAdmin: user.isAdmin === true, pending: user.approval === 'pending' };
}

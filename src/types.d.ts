// Type additions for the session and the logged-in user.
import type { SessionUser } from './auth/passport.js';

declare global {
  namespace Express {
    // eslint-disable-next-line @typescript-eslint/no-empty-object-type
    interface User extends SessionUser {}
  }
}

declare module 'express-session' {
  interface SessionData {
    flash?: { type: 'success' | 'error' | 'info'; text: string }[];
    /** Epoch ms of login, for the absolute session lifetime. */
    createdAt?: number;
    csrfToken?: string;
  }
}

export {};

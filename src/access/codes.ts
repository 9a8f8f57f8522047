// One-time codes of the authorize → callback redirect: 32 random bytes, valid 60 s, used once,
// bound to the person and the service's name. In memory, beside the access table (a second
// replica will need them shared; issue 15). Expired codes are dropped as new ones are made, so
// the map stays as small as the last minute's logins.
import { randomBytes } from 'node:crypto';

const CODE_TTL_MS = 60_000;

export class OneTimeCodes {
  private readonly codes = new Map<string, { userId: number; name: string; expiresAt: number }>();

  constructor(private readonly now: () => number = Date.now) {}

  issue(userId: number, name: string): string {
    this.dropExpired();
    const code = randomBytes(32).toString('base64url');
    this.codes.set(code, { userId, name, expiresAt: this.now() + CODE_TTL_MS });
    return code;
  }

  /** The person the code was issued to, when it is for this service, unexpired and unused; it is spent either way. */
  redeem(code: string, name: string): number | null {
    const entry = this.codes.get(code);
    this.codes.delete(code);
    if (!entry || entry.name !== name || entry.expiresAt <= this.now()) return null;
    return entry.userId;
  }

  private dropExpired(): void {
    const now = this.now();
    // Insertion order is expiry order: stop at the first code still valid.
    for (const [code, entry] of this.codes) {
      if (entry.expiresAt > now) break;
      this.codes.delete(code);
    }
  }
}

// Property tests of the input rules: whatever a person types, the username and e-mail rules either
// refuse it or accept a value inside a strict allowlist. The form's own normalising (trim,
// lowercase) is part of the path, since unicode lowercasing can turn a look-alike into ASCII.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { emailProblem, loginForm, signupForm, usernameProblem } from '../../src/auth/validation.js';
import { RESERVED_NAMES } from '../../src/addressing.js';
import { HOSTILE_PIECES, hostileText, nearlyValidEmail, nearlyValidName } from '../helpers/hostile.js';

const rules = { reserved: ['spawner', 'hub'] };
const RUNS = { numRuns: 2000 };

/** The allowlist a username must be inside, written independently of the code under test. */
function isSafeUsername(value: string): boolean {
  return /^[a-z0-9-]{3,32}$/.test(value) && !value.startsWith('-') && !value.endsWith('-') && !value.includes('--');
}

/** Printable ASCII without spaces, one @, a dotted domain of letters, digits and hyphens. */
function isSafeEmail(value: string): boolean {
  if (value.length > 254 || !/^[\x21-\x7e]+$/.test(value)) return false;
  const parts = value.split('@');
  return parts.length === 2 && /^[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$/.test(parts[1]!) && parts[0]!.length > 0;
}

const anyName = fc.oneof(hostileText, nearlyValidName, fc.stringMatching(/^[a-z0-9-]{3,32}$/));
const anyEmail = fc.oneof(hostileText, nearlyValidEmail, fc.emailAddress());

describe('usernames', () => {
  it('when any text goes through the signup form, then it is refused or the stored value is inside the allowlist', () => {
    fc.assert(
      fc.property(anyName, (typed) => {
        const { username } = signupForm.parse({ username: typed, email: '', password: '' });
        if (usernameProblem(username, rules) === null) {
          expect(isSafeUsername(username), JSON.stringify(username)).toBe(true);
          expect(RESERVED_NAMES.has(username) || rules.reserved.includes(username)).toBe(false);
        }
      }),
      RUNS,
    );
  });

  it('when text contains anything outside a-z, 0-9 and hyphen after normalising, then it is refused', () => {
    fc.assert(
      fc.property(anyName, (typed) => {
        const normalised = typed.trim().toLowerCase();
        if (/[^a-z0-9-]/.test(normalised)) expect(usernameProblem(normalised, rules)).not.toBeNull();
      }),
      RUNS,
    );
  });

  it.each([
    ['Cyrillic а', '\u0430lice'],
    ['fullwidth letters', '\uff41\uff4c\uff49\uff43\uff45'],
    ['right-to-left override', 'alice\u202e'],
    ['zero-width space', 'ali\u200bce'],
    ['newline', 'alice\nbob'],
    ['NUL', 'alice\0'],
    ['backtick', 'al`ice'],
    ['Traefik or', 'a||b'],
    ['closing paren', 'alice)'],
    ['rule injection', 'x`) || Host(`evil'],
    ['10 kB', 'a'.repeat(10_000)],
  ])('when a name has %s, then it is refused', (_what, typed) => {
    const { username } = signupForm.parse({ username: typed });
    expect(usernameProblem(username, rules)).not.toBeNull();
  });

  it('when a look-alike lowercases to plain ASCII (Kelvin sign K), then the stored name is that plain ASCII', () => {
    const { username } = signupForm.parse({ username: '\u212Aate' });
    expect(username).toBe('kate');
    expect(usernameProblem(username, rules)).toBeNull();
  });

  it('when the form field is missing, repeated or not text, then it is read as empty and refused with a message', () => {
    for (const body of [{}, { username: ['alice', 'bob'] }, { username: { a: 1 } }, { username: 7 }]) {
      const { username } = signupForm.parse(body);
      expect(username).toBe('');
      expect(usernameProblem(username, rules)).toBe('Choose a username.');
    }
    expect(loginForm.parse({ username: ['a', 'b'], password: ['x'] })).toEqual({ username: '', password: '' });
  });
});

describe('e-mail addresses', () => {
  it('when any text goes through the signup form, then it is refused or is a plain ASCII address', () => {
    fc.assert(
      fc.property(anyEmail, (typed) => {
        const { email } = signupForm.parse({ username: '', email: typed, password: '' });
        if (emailProblem(email) === null) expect(isSafeEmail(email), JSON.stringify(email)).toBe(true);
      }),
      RUNS,
    );
  });

  it('when an address has a control character, a space, a look-alike or a direction mark anywhere, then it is refused', () => {
    const bad = HOSTILE_PIECES.filter((p) => /[^\x21-\x7e]/.test(p));
    fc.assert(
      fc.property(nearlyValidEmail, (typed) => {
        if (bad.some((p) => typed.includes(p))) expect(emailProblem(typed.trim())).not.toBeNull();
      }),
      RUNS,
    );
  });
});

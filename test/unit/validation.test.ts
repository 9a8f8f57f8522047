import { describe, expect, it } from 'vitest';
import { emailProblem, passwordProblem, signupProblems, usernameProblem } from '../../src/auth/validation.js';

const rules = { reserved: ['spawner', 'hub'] };

describe('username rules', () => {
  it.each(['alice', 'bob-2', 'a1b', 'x'.repeat(32), '123'])('accepts %s', (name) => {
    expect(usernameProblem(name, rules)).toBeNull();
  });

  it.each([
    ['', /Choose/],
    ['ab', /3 to 32/],
    ['x'.repeat(33), /3 to 32/],
    ['Alice', /lowercase/],
    ['al_ice', /lowercase/],
    ['al.ice', /lowercase/],
    ['-alice', /hyphen/],
    ['alice-', /hyphen/],
    ['xn--80ak6aa92e', /two hyphens/],
    ['аlice', /lowercase/], // Cyrillic a
    ['login', /reserved/],
    ['dashboard', /reserved/],
    ['health', /reserved/],
    ['spawner', /reserved/],
    ['hub', /reserved/],
  ])('refuses %j', (name, message) => {
    expect(usernameProblem(name, rules)).toMatch(message);
  });
});

describe('password rules', () => {
  it('needs 8 to 72 bytes, counted in UTF-8', () => {
    expect(passwordProblem('short')).toMatch(/at least 8/);
    expect(passwordProblem('12345678')).toBeNull();
    expect(passwordProblem('x'.repeat(72))).toBeNull();
    expect(passwordProblem('x'.repeat(73))).toMatch(/at most 72/);
    expect(passwordProblem('ü'.repeat(37))).toMatch(/at most 72/); // 74 bytes
  });
});

describe('e-mail rules', () => {
  it('accepts ordinary addresses and refuses malformed ones', () => {
    expect(emailProblem('alice@example.com')).toBeNull();
    expect(emailProblem('Alice.Smith+tag@sub.example.org')).toBeNull();
    expect(emailProblem('')).toMatch(/Enter/);
    expect(emailProblem('alice')).toMatch(/valid/);
    expect(emailProblem('alice@localhost')).toMatch(/valid/);
    expect(emailProblem('a@b.c\nX-Header: 1')).toMatch(/valid/);
  });
});

describe('signupProblems', () => {
  it('reports every bad field at once', () => {
    expect(signupProblems({ username: 'A', email: 'x', password: '1' }, rules)).toEqual({
      username: expect.any(String),
      email: expect.any(String),
      password: expect.any(String),
    });
    expect(signupProblems({ username: 'alice', email: 'a@example.com', password: '12345678' }, rules)).toBeNull();
  });
});

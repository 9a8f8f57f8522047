// HTTP helpers: read the CSRF token from a page, sign up and log in through the real forms.
import type { Agent, Response } from 'supertest';
import { expect } from 'vitest';

export function csrfFrom(html: string): string {
  const match = /name="_csrf" value="([^"]+)"/.exec(html);
  if (!match?.[1]) throw new Error('no CSRF token in the page');
  return match[1];
}

export async function tokenFor(agent: Agent, path: string): Promise<string> {
  const page = await agent.get(path);
  return csrfFrom(page.text);
}

export async function signUp(agent: Agent, input: { username: string; email?: string; password?: string }, base = ''): Promise<Response> {
  const token = await tokenFor(agent, `${base}/signup`);
  return agent
    .post(`${base}/signup`)
    .type('form')
    .send({
      _csrf: token,
      username: input.username,
      email: input.email ?? `${input.username}@example.com`,
      password: input.password ?? 'correct horse battery',
    });
}

export async function logIn(agent: Agent, input: { username: string; password?: string }, base = ''): Promise<Response> {
  const token = await tokenFor(agent, `${base}/login`);
  return agent
    .post(`${base}/login`)
    .type('form')
    .send({ _csrf: token, username: input.username, password: input.password ?? 'correct horse battery' });
}

/** Asserts a redirect (303) to the given path. */
export function expectRedirect(response: Response, location: string): void {
  expect(response.status, response.text.slice(0, 300)).toBe(303);
  expect(response.headers.location).toBe(location);
}

// Pages Spawner serves on a person's address (the wake and refusal pages), where Spawner's own
// stylesheet is not: self-contained, with a nonce Content-Security-Policy for their inline parts.
import { randomBytes } from 'node:crypto';
import type { Response } from 'express';

/**
 * Sets the policy and returns the nonce the page's <style> and <script> carry. `formsToSelf`: the
 * page has a form to its own origin (the refusal page Spawner serves on its own host has "log out").
 */
export function setPageCsp(res: Response, options: { formsToSelf?: boolean } = {}): string {
  const nonce = randomBytes(16).toString('base64');
  res.set(
    'Content-Security-Policy',
    `default-src 'none'; script-src 'nonce-${nonce}'; style-src 'nonce-${nonce}'; connect-src 'self'; base-uri 'none'; form-action ${options.formsToSelf ? "'self'" : "'none'"}; frame-ancestors 'none'`,
  );
  return nonce;
}

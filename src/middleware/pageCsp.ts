// Pages Spawner serves on a person's address (the wake and refusal pages), where Spawner's own
// stylesheet is not: self-contained, with a nonce Content-Security-Policy for their inline parts.
import { randomBytes } from 'node:crypto';
import type { Response } from 'express';

/** Sets the policy and returns the nonce the page's <style> and <script> carry. */
export function setPageCsp(res: Response): string {
  const nonce = randomBytes(16).toString('base64');
  res.set(
    'Content-Security-Policy',
    `default-src 'none'; script-src 'nonce-${nonce}'; style-src 'nonce-${nonce}'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`,
  );
  return nonce;
}

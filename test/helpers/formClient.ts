// A small browser stand-in for a Spawner that really listens (a child process, a container, behind
// Traefik): keeps cookies, reads CSRF tokens from the pages and submits the forms. node:http
// rather than fetch, because fetch will not send a Host header of our choosing.
import { request, type IncomingHttpHeaders } from 'node:http';
import { csrfFrom } from './http.js';

export interface PageResponse {
  status: number;
  location: string | null;
  text: string;
  headers: IncomingHttpHeaders;
}

export class FormClient {
  private readonly cookies = new Map<string, string>();

  /** base: e.g. http://127.0.0.1:5123; headers: sent with every request (e.g. host). */
  constructor(
    private readonly base: string,
    private readonly headers: Record<string, string> = {},
  ) {}

  async get(path: string): Promise<PageResponse> {
    return this.request(path, { method: 'GET' });
  }

  async postForm(path: string, fields: Record<string, string>): Promise<PageResponse> {
    return this.request(path, {
      method: 'POST',
      body: new URLSearchParams(fields).toString(),
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
  }

  /** The session cookie header to send by hand (for raw-socket requests). */
  cookieHeader(): string {
    return [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
  }

  async csrfToken(path: string): Promise<string> {
    const page = await this.get(path);
    if (page.status !== 200) throw new Error(`GET ${path} answered ${page.status}: ${page.text.slice(0, 200)}`);
    return csrfFrom(page.text);
  }

  async signUp(username: string, password = 'correct horse battery', base = ''): Promise<PageResponse> {
    const token = await this.csrfToken(`${base}/signup`);
    return this.postForm(`${base}/signup`, { _csrf: token, username, email: `${username}@example.com`, password });
  }

  async logIn(username: string, password = 'correct horse battery', base = ''): Promise<PageResponse> {
    const token = await this.csrfToken(`${base}/login`);
    return this.postForm(`${base}/login`, { _csrf: token, username, password });
  }

  private request(path: string, init: { method: string; body?: string; headers?: Record<string, string> }): Promise<PageResponse> {
    const url = new URL(path, this.base);
    const headers: Record<string, string> = { ...this.headers, ...init.headers };
    if (this.cookies.size > 0) headers.cookie = this.cookieHeader();
    if (init.body !== undefined) headers['content-length'] = String(Buffer.byteLength(init.body));
    return new Promise((resolve, reject) => {
      const req = request(url, { method: init.method, headers, timeout: 30_000 }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () => {
          for (const line of res.headers['set-cookie'] ?? []) {
            const [pair] = line.split(';');
            const eq = pair?.indexOf('=') ?? -1;
            if (pair && eq > 0) this.cookies.set(pair.slice(0, eq).trim(), pair.slice(eq + 1).trim());
          }
          resolve({
            status: res.statusCode ?? 0,
            location: res.headers.location ?? null,
            text: Buffer.concat(chunks).toString('utf8'),
            headers: res.headers,
          });
        });
      });
      req.on('timeout', () => req.destroy(new Error(`${init.method} ${url.href} timed out`)));
      req.on('error', reject);
      req.end(init.body);
    });
  }
}

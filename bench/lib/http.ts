// Plain node:http for the benchmarks: a request with any Host header (fetch cannot set one), a
// cookie-keeping session client for Spawner's forms, and a bounded "poll until 200" loop.
import { Agent, request, type IncomingHttpHeaders } from 'node:http';

export interface HttpResponse {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
}

export interface HttpOptions {
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  timeoutMs?: number;
  agent?: Agent | false;
}

/** One request to http://host:port/path; rejects on network errors and after timeoutMs. */
export function httpRequest(host: string, port: number, path: string, options: HttpOptions = {}): Promise<HttpResponse> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { ...options.headers };
    if (options.body !== undefined) headers['content-length'] = String(Buffer.byteLength(options.body));
    const req = request(
      { host, port, path, method: options.method ?? 'GET', headers, agent: options.agent ?? false, timeout: options.timeoutMs ?? 30_000 },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }));
      },
    );
    req.on('timeout', () => req.destroy(new Error(`${options.method ?? 'GET'} ${host}:${port}${path} timed out`)));
    req.on('error', reject);
    req.end(options.body);
  });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Polls GET http://host:port/ every `intervalMs` until it answers 200; resolves with the number of
 * attempts. Bounded by `timeoutMs`. Both sides of every comparison use this same loop.
 */
export async function pollUntil200(host: string, port: number, timeoutMs = 15_000, intervalMs = 5): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  let attempts = 0;
  let last = '';
  while (Date.now() < deadline) {
    attempts++;
    try {
      const response = await httpRequest(host, port, '/', { timeoutMs: 1000 });
      if (response.status === 200) return attempts;
      last = `status ${response.status}`;
    } catch (error) {
      last = (error as Error).message;
    }
    await sleep(intervalMs);
  }
  throw new Error(`http://${host}:${port}/ did not answer 200 within ${timeoutMs} ms (${last})`);
}

/** A browser stand-in for Spawner's forms: keeps cookies, reads CSRF tokens, submits forms. */
export class SessionClient {
  private readonly cookies = new Map<string, string>();

  constructor(
    private readonly host: string,
    private readonly port: number,
    private readonly headers: Record<string, string> = {},
    private readonly agent: Agent | false = false,
  ) {}

  get(path: string, timeoutMs = 30_000): Promise<HttpResponse> {
    return this.send(path, { method: 'GET', timeoutMs });
  }

  postForm(path: string, fields: Record<string, string>): Promise<HttpResponse> {
    return this.send(path, {
      method: 'POST',
      body: new URLSearchParams(fields).toString(),
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
  }

  async csrfToken(path: string): Promise<string> {
    const page = await this.get(path);
    const token = /name="_csrf" value="([^"]+)"/.exec(page.text)?.[1];
    if (page.status !== 200 || !token) throw new Error(`GET ${path}: ${page.status}, no CSRF token: ${page.text.slice(0, 200)}`);
    return token;
  }

  private async send(path: string, options: HttpOptions): Promise<HttpResponse> {
    const headers: Record<string, string> = { ...this.headers, ...options.headers };
    if (this.cookies.size > 0) headers.cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    const response = await httpRequest(this.host, this.port, path, { ...options, headers, agent: this.agent });
    for (const line of response.headers['set-cookie'] ?? []) {
      const pair = line.split(';')[0] ?? '';
      const eq = pair.indexOf('=');
      if (eq > 0) this.cookies.set(pair.slice(0, eq).trim(), pair.slice(eq + 1).trim());
    }
    return response;
  }
}

/** Reads a server-sent-events stream until `event: <name>` (or `failed`) arrives; bounded. */
export function waitForEvent(
  host: string,
  port: number,
  path: string,
  headers: Record<string, string>,
  name: string,
  timeoutMs = 30_000,
): Promise<string> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      req.destroy();
      reject(new Error(`no "${name}" event on ${path} within ${timeoutMs} ms`));
    }, timeoutMs);
    const req = request({ host, port, path, headers: { ...headers, accept: 'text/event-stream' }, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        text += chunk;
        if (text.includes(`event: ${name}`) || text.includes('event: failed')) {
          clearTimeout(timer);
          req.destroy();
          if (text.includes('event: failed')) reject(new Error(`wake failed: ${text}`));
          else resolve(text);
        }
      });
      res.on('end', () => {
        clearTimeout(timer);
        reject(new Error(`event stream ended without "${name}" (status ${res.statusCode}): ${text.slice(0, 200)}`));
      });
    });
    req.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    req.end();
  });
}

// A small browser stand-in that talks to Spawner THROUGH Traefik: one host name, cookies kept
// (honouring their Path, as a browser would), CSRF tokens read from the pages, forms submitted.
import { csrfFrom } from './http.js';
import { viaTraefik, type Traefik } from './traefik.js';

export const BROWSER_HEADERS = {
  'User-Agent': 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0 Safari/537.36',
  Accept: 'text/html,application/xhtml+xml',
};

export interface ProxiedResponse {
  status: number;
  location: string | undefined;
  text: string;
  headers: Record<string, string | string[] | undefined>;
}

export class ProxyClient {
  private readonly cookies = new Map<string, { value: string; path: string }>();

  constructor(
    private readonly traefik: Traefik,
    /** Host header, e.g. spawner.apps.test or path.test. */
    readonly host: string,
    private readonly options: { secure?: boolean } = {},
  ) {}

  get(path: string): Promise<ProxiedResponse> {
    return this.request('GET', path);
  }

  postForm(path: string, fields: Record<string, string>): Promise<ProxiedResponse> {
    return this.request('POST', path, new URLSearchParams(fields).toString());
  }

  async csrfToken(path: string): Promise<string> {
    const page = await this.get(path);
    if (page.status !== 200) throw new Error(`GET ${path} answered ${page.status}: ${page.text.slice(0, 200)}`);
    return csrfFrom(page.text);
  }

  async signUp(username: string, base = ''): Promise<ProxiedResponse> {
    const token = await this.csrfToken(`${base}/signup`);
    return this.postForm(`${base}/signup`, { _csrf: token, username, email: `${username}@example.com`, password: 'correct horse battery' });
  }

  /** Submits a form on a page that carries a CSRF token (e.g. the dashboard's restart button). */
  async submit(pagePath: string, action: string, fields: Record<string, string> = {}): Promise<ProxiedResponse> {
    const token = await this.csrfToken(pagePath);
    return this.postForm(action, { _csrf: token, ...fields });
  }

  /**
   * A browser sent to Spawner's authorize step by a service's login redirect (`location`): it is
   * sent on to the login page, posts the form with its `next` kept, and ends on the login's answer
   * (whose location is the authorize step again).
   */
  async logInFrom(location: string, base: string, username: string): Promise<{ authorize: URL; loggedIn: ProxiedResponse }> {
    const authorize = new URL(location);
    const toLogin = await this.get(`${authorize.pathname}${authorize.search}`);
    if (toLogin.status !== 303) throw new Error(`authorize answered ${toLogin.status}, not 303 to the login page`);
    const form = await this.get(toLogin.location!);
    const token = /name="_csrf" value="([^"]+)"/.exec(form.text)![1]!;
    const next = /name="next" value="([^"]+)"/.exec(form.text)![1]!.replace(/&amp;/g, '&');
    const loggedIn = await this.postForm(`${base}/login`, { _csrf: token, username, password: 'correct horse battery', next });
    return { authorize, loggedIn };
  }

  cookieNames(): string[] {
    return [...this.cookies.keys()];
  }

  private async request(method: string, path: string, body?: string): Promise<ProxiedResponse> {
    const cookie = [...this.cookies]
      .filter(([, c]) => path === c.path || path.startsWith(c.path.endsWith('/') ? c.path : `${c.path}/`))
      .map(([name, c]) => `${name}=${c.value}`)
      .join('; ');
    const response = await viaTraefik(this.traefik, this.host, path, {
      method,
      ...(this.options.secure ? { secure: true } : {}),
      headers: {
        ...BROWSER_HEADERS,
        ...(cookie ? { cookie } : {}),
        ...(body !== undefined
          ? { 'content-type': 'application/x-www-form-urlencoded', 'content-length': String(Buffer.byteLength(body)) }
          : {}),
      },
      ...(body !== undefined ? { body } : {}),
    });
    const setCookie = response.headers['set-cookie'];
    for (const line of Array.isArray(setCookie) ? setCookie : setCookie ? [setCookie] : []) {
      const [pair, ...attributes] = line.split(';').map((s) => s.trim());
      const eq = pair?.indexOf('=') ?? -1;
      if (!pair || eq <= 0) continue;
      const cookiePath = attributes.find((a) => /^path=/i.test(a))?.slice(5) || '/';
      const expired = attributes.some((a) => /^expires=/i.test(a) && Date.parse(a.slice(8)) < Date.now());
      if (expired) this.cookies.delete(pair.slice(0, eq));
      else this.cookies.set(pair.slice(0, eq), { value: pair.slice(eq + 1), path: cookiePath });
    }
    const location = response.headers.location;
    return {
      status: response.status,
      location: Array.isArray(location) ? location[0] : location,
      text: response.text,
      headers: response.headers,
    };
  }
}

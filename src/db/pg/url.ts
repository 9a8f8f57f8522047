// DATABASE_URL carries a password: this is the one way to show it (logs, error messages) without it.

/** `postgres://user:secret@host/db` → `postgres://user:***@host/db`; anything unparsable → a placeholder. */
export function redactDatabaseUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    // Query parameters may carry a password too (`?password=…`): keep only their names.
    for (const key of [...parsed.searchParams.keys()]) parsed.searchParams.set(key, '***');
    return parsed.toString();
  } catch {
    return '(an unparsable URL)';
  }
}

export function isPostgresUrl(url: string): boolean {
  try {
    // An empty host is valid (libpq then uses the local socket, or `?host=/run/postgresql`).
    const { protocol } = new URL(url);
    return protocol === 'postgres:' || protocol === 'postgresql:';
  } catch {
    return false;
  }
}

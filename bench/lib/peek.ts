// A read-only look into a running Spawner's SQLite file (WAL mode lets a reader in beside the
// server), so the bench can name a new person's container without asking Spawner for a page.
import Database from 'better-sqlite3';

export class DbPeek {
  private readonly sqlite: Database.Database;
  private readonly byName;

  constructor(path: string) {
    this.sqlite = new Database(path, { readonly: true, fileMustExist: true });
    this.byName = this.sqlite.prepare<[string], { id: number }>('SELECT id FROM users WHERE username = ?');
  }

  userId(username: string): number {
    const row = this.byName.get(username);
    if (!row) throw new Error(`no account ${username} in the database`);
    return row.id;
  }

  close(): void {
    this.sqlite.close();
  }
}

/**
 * The database side of an app's database-connection secret: the port the Secrets Manager
 * rotation protocol drives. A cloud adapter would speak the engine's protocol (e.g. Postgres
 * `ALTER ROLE … PASSWORD`); offline and in tests the stand-in below plays the database.
 */
export type DatabaseConnection = {
  engine: string;
  host: string;
  port: number;
  dbname: string;
  username: string;
  password: string;
};

export interface DatabasePasswords {
  readonly kind: string;
  /** Whether these credentials log in. */
  canLogIn(connection: DatabaseConnection): Promise<boolean>;
  /** Logs in as `as` and sets `next.username`'s password to `next.password`. */
  setPassword(as: DatabaseConnection, next: DatabaseConnection): Promise<void>;
}

/** The parts of a connection that name the account, as opposed to its password. */
export const accountOf = (c: DatabaseConnection): string => `${c.engine}://${c.username}@${c.host}:${c.port}/${c.dbname}`;

/**
 * OFFLINE STAND-IN for a database server: accounts and passwords in memory. It records every
 * password change (which account, when; never the password) so a test or a developer can see
 * what a rotation did.
 */
export class DatabasePasswordsStandIn implements DatabasePasswords {
  readonly kind = "offline-stand-in";
  readonly changes: { account: string; at: string }[] = [];
  private readonly passwords = new Map<string, string>();

  constructor(accounts: DatabaseConnection[] = []) {
    for (const account of accounts) this.passwords.set(accountOf(account), account.password);
  }

  async canLogIn(connection: DatabaseConnection): Promise<boolean> {
    return this.passwords.get(accountOf(connection)) === connection.password;
  }

  async setPassword(as: DatabaseConnection, next: DatabaseConnection): Promise<void> {
    if (!(await this.canLogIn(as))) throw new Error("authentication failed");
    if (accountOf(as) !== accountOf(next)) throw new Error("a login may only change its own password");
    this.passwords.set(accountOf(next), next.password);
    this.changes.push({ account: accountOf(next), at: new Date().toISOString() });
  }
}

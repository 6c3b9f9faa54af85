import { DatabaseSync } from 'node:sqlite';
import type { DedupeStore } from '../functions/core/dedupe';

/**
 * The dedupe store of `npm start` and the tests: SQLite (Node's own), in memory by default or in a
 * file so that what was delivered is remembered across restarts. Same contract as the DynamoDB
 * store the Lambdas use.
 */
export class SqliteDedupeStore implements DedupeStore {
  private readonly db: DatabaseSync;

  constructor(
    file = ':memory:',
    private readonly now: () => number = Date.now,
  ) {
    this.db = new DatabaseSync(file);
    this.db.exec('CREATE TABLE IF NOT EXISTS delivered (pk TEXT PRIMARY KEY, expires_at INTEGER NOT NULL)');
  }

  async seen(keys: readonly string[]): Promise<Set<string>> {
    const query = this.db.prepare('SELECT pk FROM delivered WHERE pk = ? AND expires_at > ?');
    const nowSeconds = Math.floor(this.now() / 1000);
    return new Set(keys.filter((key) => query.get(key, nowSeconds) !== undefined));
  }

  async remember(keys: readonly string[], ttlSeconds: number): Promise<void> {
    const expires = Math.floor(this.now() / 1000) + ttlSeconds;
    const upsert = this.db.prepare('INSERT INTO delivered (pk, expires_at) VALUES (?, ?) ON CONFLICT(pk) DO UPDATE SET expires_at = excluded.expires_at');
    for (const key of new Set(keys)) upsert.run(key, expires);
  }

  close(): void {
    this.db.close();
  }
}

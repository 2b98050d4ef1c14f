import { EventEmitter } from 'node:events';
import type { PGlite } from '@electric-sql/pglite';

/**
 * A node-postgres-shaped pool over one PGlite instance, for TypeORM's postgres driver.
 *
 * Why not typeorm-pglite's pool: it shares one process-wide PGlite singleton and hands the same
 * session to every caller at once, so a transaction on one query runner would swallow statements
 * issued concurrently by another (PGlite has a single session). Here a connection is exclusive:
 * `connect` waits until the previous holder released it, which gives transactions the isolation
 * they have on Postgres, and each data source owns its own PGlite instance.
 */
export class PGliteExclusivePool extends EventEmitter {
  private tail: Promise<void> = Promise.resolve();
  private ended = false;

  constructor(private readonly db: PGlite) {
    super();
  }

  connect(
    callback?: (err: unknown, client: PGliteClient | null, release: () => void) => void,
  ): Promise<PGliteClient> {
    const previous = this.tail;
    let unlock!: () => void;
    this.tail = new Promise<void>((r) => (unlock = r));
    const acquired = previous.then(() => {
      if (this.ended) {
        unlock();
        throw new Error('PGlite pool has been closed');
      }
      return new PGliteClient(this.db, unlock);
    });
    if (callback)
      acquired.then(
        (client) => callback(null, client, () => client.release()),
        (err) => callback(err, null, () => undefined),
      );
    return acquired;
  }

  end(callback?: (err: unknown) => void): Promise<void> {
    this.ended = true;
    // Close after every holder let go, so no query is cut off mid-flight.
    const done = this.tail.then(() => this.db.close());
    if (callback) done.then(() => callback(null), callback);
    return done;
  }
}

interface PgLikeResult {
  rows: unknown[];
  rowCount: number;
  command: string;
  fields: { name: string; dataTypeID: number }[];
}

export class PGliteClient extends EventEmitter {
  private released = false;

  constructor(
    private readonly db: PGlite,
    private readonly unlock: () => void,
  ) {
    super();
  }

  async query(
    sql: string,
    params?: unknown[] | ((err: unknown, r: PgLikeResult | null) => void),
    callback?: (err: unknown, r: PgLikeResult | null) => void,
  ): Promise<PgLikeResult> {
    const cb = typeof params === 'function' ? params : callback;
    const values = Array.isArray(params) ? params : undefined;
    try {
      let result: PgLikeResult;
      if (values && values.length > 0) {
        const r = await this.db.query(sql, values);
        result = toPg(r, sql);
      } else {
        // exec runs multi-statement text (migrations); TypeORM expects the last statement's result.
        const all = await this.db.exec(sql);
        result = all.length
          ? toPg(all[all.length - 1]!, sql)
          : { rows: [], rowCount: 0, command: '', fields: [] };
      }
      cb?.(null, result);
      return result;
    } catch (err) {
      cb?.(err, null);
      throw err;
    }
  }

  release(): void {
    if (this.released) return;
    this.released = true;
    this.unlock();
  }
}

function toPg(
  r: { rows: unknown[]; affectedRows?: number; fields: { name: string; dataTypeID: number }[] },
  sql: string,
): PgLikeResult {
  const command = (r as { command?: string }).command ?? sql.trim().split(/\s+/, 1)[0]!.toUpperCase();
  const affected = r.affectedRows ?? 0;
  return {
    rows: r.rows,
    rowCount: command === 'SELECT' ? r.rows.length : affected,
    command,
    fields: r.fields,
  };
}

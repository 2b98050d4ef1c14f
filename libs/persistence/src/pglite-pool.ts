import { EventEmitter } from 'node:events';
import type { PGlite } from '@electric-sql/pglite';
import { isBackgroundWork } from './db-priority';

/**
 * A node-postgres-shaped pool over one PGlite instance, for TypeORM's postgres driver.
 *
 * Why not typeorm-pglite's pool: it shares one process-wide PGlite singleton and hands the same
 * session to every caller at once, so a transaction on one query runner would swallow statements
 * issued concurrently by another (PGlite has a single session). Here a connection is exclusive:
 * `connect` waits until the previous holder released it, which gives transactions the isolation
 * they have on Postgres, and each data source owns its own PGlite instance.
 *
 * Waiters are served foreground first: a request handler's query jumps ahead of queued search-loop
 * work (see asBackgroundWork), so reads stay fast while a search keeps the connection busy.
 */
export class PGliteExclusivePool extends EventEmitter {
  private held = false;
  private readonly foreground: (() => void)[] = [];
  private readonly backgroundQueue: (() => void)[] = [];
  private ended = false;

  constructor(private readonly db: PGlite) {
    super();
  }

  connect(
    callback?: (err: unknown, client: PGliteClient | null, release: () => void) => void,
  ): Promise<PGliteClient> {
    const acquired = this.acquire(isBackgroundWork()).then(() => {
      if (this.ended) {
        this.unlock();
        throw new Error('PGlite pool has been closed');
      }
      return new PGliteClient(this.db, () => this.unlock());
    });
    if (callback)
      acquired.then(
        (client) => callback(null, client, () => client.release()),
        (err) => callback(err, null, () => undefined),
      );
    return acquired;
  }

  private acquire(background: boolean): Promise<void> {
    if (!this.held) {
      this.held = true;
      return Promise.resolve();
    }
    return new Promise<void>((resolve) =>
      (background ? this.backgroundQueue : this.foreground).push(resolve),
    );
  }

  private unlock(): void {
    const next = this.foreground.shift() ?? this.backgroundQueue.shift();
    if (next) next();
    else {
      this.held = false;
      this.idle?.();
    }
  }

  private idle: (() => void) | null = null;

  private whenIdle(): Promise<void> {
    if (!this.held) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const previous = this.idle;
      this.idle = () => {
        this.idle = null;
        previous?.();
        resolve();
      };
    });
  }

  end(callback?: (err: unknown) => void): Promise<void> {
    this.ended = true;
    // Close after every holder let go, so no query is cut off mid-flight.
    const done = this.whenIdle().then(() => this.db.close());
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

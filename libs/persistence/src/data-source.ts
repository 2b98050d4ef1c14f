import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { Client } from 'pg';
import { DataSource, type EntityManager, type QueryRunner } from 'typeorm';
import { DomainError } from '@detsearch/common';
import { MIGRATIONS } from '../../../migrations';
import { PGliteExclusivePool } from './pglite-pool';

export const MIGRATIONS_TABLE = 'detsearch_migrations';

export interface DataSourceOptions {
  /** Postgres connection string; absent: embedded PGlite. Defaults to nothing (callers pass env). */
  databaseUrl?: string;
  /** DETSEARCH_HOME: PGlite keeps its data in <home>/pgdata. Default ./.detsearch. */
  home?: string;
  /** PGlite in memory (tests, throwaway runs). Ignored with databaseUrl. */
  inMemory?: boolean;
  /** Postgres schema to use (created if missing); isolates parallel test files. Default public. */
  schema?: string;
  /** Run pending migrations on open (default true). With false, a pending migration is an error. */
  migrate?: boolean;
  /** Postgres pool size (default 10). */
  poolSize?: number;
}

/** SQL with positional parameters, inside or outside a transaction. */
export interface Sql {
  query<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
  /** Like query, also returning the affected row count (UPDATE/DELETE). */
  execute<T = Record<string, unknown>>(
    sql: string,
    params?: unknown[],
  ): Promise<{ rows: T[]; affected: number }>;
}

/**
 * A transaction. Repositories take one so several writes (a trial row and, with a queue, its
 * job) commit together. `manager` is TypeORM's, for adapters that need it (pg-boss's `db`
 * option can wrap `query`).
 */
export interface Tx extends Sql {
  readonly manager: EntityManager;
}

class RunnerSql implements Tx {
  constructor(private readonly runner: QueryRunner) {}

  get manager(): EntityManager {
    return this.runner.manager;
  }

  async query<T>(sql: string, params?: unknown[]): Promise<T[]> {
    return (await this.execute<T>(sql, params)).rows;
  }

  async execute<T>(sql: string, params?: unknown[]): Promise<{ rows: T[]; affected: number }> {
    const r = await this.runner.query(sql, params, true);
    return { rows: (r.records ?? []) as T[], affected: r.affected ?? 0 };
  }
}

export type DatabaseKind = 'postgres' | 'pglite';

/** An open database: TypeORM data source, migrated, with SQL helpers. */
export class Database implements Sql {
  private closed = false;

  constructor(
    readonly dataSource: DataSource,
    readonly kind: DatabaseKind,
    readonly schema: string | undefined,
    /** The embedded instance (PGlite mode), e.g. for an in-process queue. */
    readonly pglite: PGlite | null,
  ) {}

  async query<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]> {
    return (await this.execute<T>(sql, params)).rows;
  }

  async execute<T = Record<string, unknown>>(
    sql: string,
    params?: unknown[],
  ): Promise<{ rows: T[]; affected: number }> {
    const runner = this.dataSource.createQueryRunner();
    try {
      return await new RunnerSql(runner).execute<T>(sql, params);
    } finally {
      await runner.release();
    }
  }

  /**
   * Runs `fn` in one transaction; commits when it resolves, rolls back when it throws. With
   * `retries`, a transaction Postgres aborted as a deadlock victim or a serialization failure is
   * run again from the start (so `fn` must do nothing but database work through `tx`).
   */
  async transaction<T>(fn: (tx: Tx) => Promise<T>, options: { retries?: number } = {}): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.transactionOnce(fn);
      } catch (err) {
        if (attempt >= (options.retries ?? 0) || !isTransientDbError(err)) throw err;
        await new Promise((r) => setTimeout(r, 10 + Math.random() * 40 * (attempt + 1)));
      }
    }
  }

  private async transactionOnce<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
    const runner = this.dataSource.createQueryRunner();
    await runner.connect();
    await runner.startTransaction();
    try {
      const result = await fn(new RunnerSql(runner));
      await runner.commitTransaction();
      return result;
    } catch (err) {
      if (runner.isTransactionActive) await runner.rollbackTransaction();
      throw err;
    } finally {
      await runner.release();
    }
  }

  /** `tx` when given, else this database (auto-commit). */
  sql(tx?: Sql): Sql {
    return tx ?? this;
  }

  async ping(): Promise<number> {
    const t0 = performance.now();
    await this.query('SELECT 1');
    return performance.now() - t0;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.dataSource.isInitialized) await this.dataSource.destroy();
  }
}

/** Deadlock victim (40P01) or serialization failure (40001): retrying the transaction is safe. */
export function isTransientDbError(err: unknown): boolean {
  const e = err as { code?: unknown; driverError?: { code?: unknown } } | null;
  const code = e?.code ?? e?.driverError?.code;
  return code === '40P01' || code === '40001';
}

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/**
 * Opens the database: Postgres when `databaseUrl` is set, else embedded PGlite (in memory or
 * under `<home>/pgdata`). Refuses a database migrated by newer code, then runs pending migrations.
 */
export async function createDataSource(options: DataSourceOptions = {}): Promise<Database> {
  const schema = options.schema;
  if (schema !== undefined && !SCHEMA_NAME.test(schema))
    throw new DomainError(
      'DATABASE.INVALID_SCHEMA',
      `schema '${schema}' must match ${SCHEMA_NAME}`,
      'schema',
    );

  let dataSource: DataSource;
  let pglite: PGlite | null = null;
  let lockClient: Client | null = null;
  const common = {
    type: 'postgres' as const,
    // The migrations are the schema; repositories speak SQL, so TypeORM maps no entities.
    entities: [],
    migrations: MIGRATIONS,
    migrationsTableName: MIGRATIONS_TABLE,
    migrationsRun: false,
    synchronize: false,
    // Ids are generated in JS; no uuid-ossp (PGlite lacks it).
    installExtensions: false,
    logging: false as const,
  };
  if (options.databaseUrl) {
    dataSource = new DataSource({
      ...common,
      url: options.databaseUrl,
      poolSize: options.poolSize ?? 10,
      ...(schema ? { schema, extra: { options: `-c search_path=${schema}` } } : {}),
    });
    // Processes starting together (an API and a fleet of workers on a fresh database) create the
    // schema and migrate one at a time, under an advisory lock this session holds until the end
    // (CREATE SCHEMA IF NOT EXISTS itself races). The schema must exist before a pooled connection
    // uses it as search_path.
    lockClient = new Client({ connectionString: options.databaseUrl });
    await lockClient.connect();
    try {
      await lockClient.query(`SELECT pg_advisory_lock(hashtext($1))`, [
        `detsearch-migrations:${schema ?? ''}`,
      ]);
      if (schema) await lockClient.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
    } catch (err) {
      await lockClient.end();
      throw err;
    }
  } else {
    let dataDir: string | undefined;
    if (!options.inMemory) {
      dataDir = resolve(options.home ?? '.detsearch', 'pgdata');
      mkdirSync(dataDir, { recursive: true });
    }
    pglite = await PGlite.create(dataDir);
    if (schema) await pglite.exec(`CREATE SCHEMA IF NOT EXISTS "${schema}"; SET search_path TO "${schema}"`);
    const db = pglite;
    class Pool extends PGliteExclusivePool {
      constructor() {
        super(db);
      }
    }
    dataSource = new DataSource({ ...common, ...(schema ? { schema } : {}), driver: { Pool } });
  }

  const database = new Database(dataSource, options.databaseUrl ? 'postgres' : 'pglite', schema, pglite);
  try {
    await dataSource.initialize();
    await assertSchemaKnown(database);
    if (options.migrate === false) {
      if (await dataSource.showMigrations())
        throw new DomainError(
          'DATABASE.MIGRATIONS_PENDING',
          'the database has pending migrations and migrate is off',
        );
    } else {
      await dataSource.runMigrations({ transaction: 'each' });
    }
  } catch (err) {
    await database.close();
    throw err;
  } finally {
    // Ending the session releases the advisory lock.
    await lockClient?.end().catch(() => undefined);
  }
  return database;
}

/**
 * Refuses a database that records migrations this code does not know: it was migrated by a
 * newer version, and running on it could corrupt data the newer code relies on.
 */
export async function assertSchemaKnown(db: Sql): Promise<void> {
  const [{ exists }] = await db.query<{ exists: boolean }>(`SELECT to_regclass($1) IS NOT NULL AS exists`, [
    MIGRATIONS_TABLE,
  ]);
  if (!exists) return;
  const applied = await db.query<{ name: string; timestamp: string | number }>(
    `SELECT name, timestamp FROM ${MIGRATIONS_TABLE} ORDER BY timestamp`,
  );
  const known = new Set(MIGRATIONS.map((m) => m.name));
  const unknown = applied.filter((m) => !known.has(m.name));
  if (unknown.length > 0) {
    const newest = MIGRATIONS[MIGRATIONS.length - 1]!.name;
    throw new DomainError(
      'DATABASE.SCHEMA_TOO_NEW',
      `the database schema was migrated by a newer detsearch (unknown migrations: ${unknown
        .map((m) => m.name)
        .join(', ')}; this code knows up to ${newest}). Upgrade detsearch or use another database.`,
    );
  }
}

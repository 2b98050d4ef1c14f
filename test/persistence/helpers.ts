import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { createDataSource, type Database, type DataSourceOptions } from '@detsearch/persistence';

export const DATABASE_URL = process.env.DATABASE_URL;

/** A fresh schema name per test file: files run in parallel against the one CI Postgres. */
export function uniqueSchema(prefix = 't'): string {
  return `${prefix}_${randomUUID().replace(/-/g, '').slice(0, 16)}`;
}

export async function dropSchema(databaseUrl: string, schema: string): Promise<void> {
  const client = new Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  } finally {
    await client.end();
  }
}

export interface TestDatabaseTarget {
  kind: 'pglite' | 'postgres';
  options: () => DataSourceOptions;
  cleanup: () => Promise<void>;
}

/** PGlite always; Postgres when DATABASE_URL is set (each in its own schema). */
export function testTargets(): TestDatabaseTarget[] {
  const targets: TestDatabaseTarget[] = [
    { kind: 'pglite', options: () => ({ inMemory: true }), cleanup: async () => {} },
  ];
  if (DATABASE_URL) {
    const schema = uniqueSchema();
    targets.push({
      kind: 'postgres',
      options: () => ({ databaseUrl: DATABASE_URL, schema }),
      cleanup: () => dropSchema(DATABASE_URL, schema),
    });
  }
  return targets;
}

export async function openTarget(t: TestDatabaseTarget): Promise<Database> {
  return createDataSource(t.options());
}

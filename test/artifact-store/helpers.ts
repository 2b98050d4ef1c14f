import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import S3rver from 's3rver';
import { FsArtifactStore, PgArtifactStore, S3ArtifactStore, type ArtifactStore } from '@detsearch/artifacts';
import { createDataSource, type Database } from '@detsearch/persistence';
import { DATABASE_URL, dropSchema, uniqueSchema } from '../persistence/helpers';

export const S3_BUCKET = 'detsearch-test';

/** An S3 server in this process (s3rver) on a random port, files in a temp folder. */
export async function startS3rver(): Promise<{ endpoint: string; stop(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 's3rver-'));
  const server = new S3rver({
    port: 0,
    address: '127.0.0.1',
    silent: true,
    directory: dir,
    configureBuckets: [{ name: S3_BUCKET }],
  });
  const addr = await server.run();
  return {
    endpoint: `http://127.0.0.1:${addr.port}`,
    async stop() {
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export const s3rverCredentials = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };

/** One store under test, created fresh, and how to clean it up. */
export interface StoreTarget {
  name: string;
  skip?: string;
  open(): Promise<{ store: ArtifactStore; db?: Database; cleanup(): Promise<void> }>;
}

/**
 * The stores the contract runs on: fs and embedded Postgres always, a Postgres server with
 * DATABASE_URL, S3 through an in-process s3rver always, and a user's S3-compatible endpoint when
 * ARTIFACT_S3_ENDPOINT and ARTIFACT_S3_BUCKET are set.
 */
export function storeTargets(): StoreTarget[] {
  const env = process.env;
  return [
    {
      name: 'fs',
      async open() {
        const dir = mkdtempSync(join(tmpdir(), 'artifacts-fs-'));
        return {
          store: new FsArtifactStore(dir),
          cleanup: async () => rmSync(dir, { recursive: true, force: true }),
        };
      },
    },
    {
      name: 'postgres (embedded PGlite)',
      async open() {
        const db = await createDataSource({ inMemory: true });
        return { store: new PgArtifactStore(db, 256 * 1024), db, cleanup: () => db.close() };
      },
    },
    {
      name: 'postgres (server)',
      ...(DATABASE_URL ? {} : { skip: 'needs DATABASE_URL (Postgres)' }),
      async open() {
        const schema = uniqueSchema('art');
        const db = await createDataSource({ databaseUrl: DATABASE_URL, schema });
        return {
          store: new PgArtifactStore(db, 256 * 1024),
          db,
          cleanup: async () => {
            await db.close();
            await dropSchema(DATABASE_URL!, schema);
          },
        };
      },
    },
    {
      name: 's3 (in-process s3rver)',
      async open() {
        const s3 = await startS3rver();
        const store = new S3ArtifactStore({
          bucket: S3_BUCKET,
          endpoint: s3.endpoint,
          ...s3rverCredentials,
          prefix: `t-${uniqueSchema('p')}`,
        });
        return {
          store,
          cleanup: async () => {
            await store.close();
            await s3.stop();
          },
        };
      },
    },
    {
      name: 's3 (ARTIFACT_S3_ENDPOINT)',
      ...(env.ARTIFACT_S3_ENDPOINT && env.ARTIFACT_S3_BUCKET
        ? {}
        : { skip: 'set ARTIFACT_S3_ENDPOINT and ARTIFACT_S3_BUCKET to run it on your S3-compatible server' }),
      async open() {
        const store = new S3ArtifactStore({
          bucket: env.ARTIFACT_S3_BUCKET!,
          endpoint: env.ARTIFACT_S3_ENDPOINT!,
          region: env.ARTIFACT_S3_REGION ?? 'us-east-1',
          ...(env.ARTIFACT_S3_ACCESS_KEY_ID && env.ARTIFACT_S3_SECRET_ACCESS_KEY
            ? {
                accessKeyId: env.ARTIFACT_S3_ACCESS_KEY_ID,
                secretAccessKey: env.ARTIFACT_S3_SECRET_ACCESS_KEY,
              }
            : {}),
          prefix: `detsearch-test/${uniqueSchema('p')}`,
        });
        return {
          store,
          cleanup: async () => {
            for (const a of await store.list('')) await store.delete(a.key);
            await store.close();
          },
        };
      },
    },
  ];
}

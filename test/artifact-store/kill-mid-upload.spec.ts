import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { FsArtifactStore, PgArtifactStore, S3ArtifactStore, type ArtifactStore } from '@detsearch/artifacts';
import { createDataSource } from '@detsearch/persistence';
import { DATABASE_URL, dropSchema, uniqueSchema } from '../persistence/helpers';
import { exited, ROOT, waitFor } from '../queue/helpers';
import { S3_BUCKET, s3rverCredentials, startS3rver } from './helpers';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const KEY = 'searches/k1/trials/t1/a1/model-fp32.onnx';

async function readAll(s: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const p of s) parts.push(Buffer.from(p as Buffer));
  return Buffer.concat(parts);
}

interface Target {
  name: string;
  skip?: string;
  /** The store in this process, the writer's arguments, and whether its left-overs are listable. */
  open(): Promise<{
    store: ArtifactStore;
    args: string[];
    pendingVisible: boolean;
    cleanup(): Promise<void>;
  }>;
}

const targets: Target[] = [
  {
    name: 'fs',
    async open() {
      const dir = mkdtempSync(join(tmpdir(), 'kill-fs-'));
      return {
        store: new FsArtifactStore(dir),
        args: ['fs', dir],
        pendingVisible: true,
        cleanup: async () => rmSync(dir, { recursive: true, force: true }),
      };
    },
  },
  {
    name: 'postgres',
    ...(DATABASE_URL ? {} : { skip: 'needs DATABASE_URL: two processes share only a Postgres server' }),
    async open() {
      const schema = uniqueSchema('kill');
      const db = await createDataSource({ databaseUrl: DATABASE_URL, schema });
      return {
        store: new PgArtifactStore(db, 256 * 1024),
        args: ['postgres', DATABASE_URL!, schema],
        pendingVisible: true,
        cleanup: async () => {
          await db.close();
          await dropSchema(DATABASE_URL!, schema);
        },
      };
    },
  },
  {
    name: 's3 (s3rver)',
    async open() {
      const s3 = await startS3rver();
      const prefix = `kill-${uniqueSchema('p')}`;
      const store = new S3ArtifactStore({
        bucket: S3_BUCKET,
        endpoint: s3.endpoint,
        prefix,
        ...s3rverCredentials,
      });
      return {
        store,
        args: ['s3', s3.endpoint, S3_BUCKET, prefix],
        // s3rver keeps unfinished multipart parts to itself (no ListMultipartUploads)
        pendingVisible: false,
        cleanup: async () => {
          await store.close();
          await s3.stop();
        },
      };
    },
  },
];

/**
 * A worker killed mid-upload (SIGKILL: no cleanup runs) must leave nothing visible under the key
 * (the previous version stays whole), and a later put of the same key must succeed.
 */
for (const t of targets) {
  describe.skipIf(Boolean(t.skip))(
    `kill mid-upload: ${t.name}${t.skip ? ` (skipped: ${t.skip})` : ''}`,
    () => {
      const cleanups: (() => Promise<void>)[] = [];
      afterAll(async () => {
        for (const c of cleanups) await c();
      });

      it('leaves the previous version whole, nothing half-written, and the key can be put again', async () => {
        const { store, args, pendingVisible, cleanup } = await t.open();
        cleanups.push(cleanup);
        const before = randomBytes(100_000);
        await store.put(KEY, before);

        // 48 MiB in 256 KiB chunks; killed once 12 MiB (several parts or chunks) have gone out.
        const child = spawn(
          process.execPath,
          ['-r', '@swc-node/register', 'test/artifact-store/slow-put.ts', ...args, KEY, '192'],
          { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
        );
        let out = '';
        let err = '';
        child.stdout.on('data', (d) => (out += d));
        child.stderr.on('data', (d) => (err += d));
        await waitFor(
          () => {
            if (child.exitCode !== null) throw new Error(`writer exited early (${child.exitCode}): ${err}`);
            const sent = Number(/sent (\d+)\n(?![\s\S]*sent)/.exec(out)?.[1] ?? 0);
            return sent >= 48;
          },
          90_000,
          'the writer to be mid-upload',
          20,
        );
        child.kill('SIGKILL');
        await exited(child);
        expect(out).not.toContain('committed');

        // Readers see the old version, whole.
        const got = await store.get(KEY);
        expect(got?.sha256).toBe(sha(before));
        expect(sha(await readAll(got!.stream))).toBe(sha(before));
        expect((await store.list('searches/k1/')).map((a) => [a.key, a.size])).toEqual([
          [KEY, before.length],
        ]);

        // The same key can be put again, and reads back identical.
        const after = randomBytes(3 * 1024 * 1024 + 5);
        const put = await store.put(KEY, after);
        expect(put.sha256).toBe(sha(after));
        const back = await store.get(KEY);
        expect(back!.size).toBe(after.length);
        expect((await readAll(back!.stream)).equals(after)).toBe(true);

        // gc finds the dead writer's left-over (not before its cut-off) and removes it.
        expect((await store.gcPending(new Date(Date.now() - 3_600_000))).removed).toBe(0);
        const dry = await store.gcPending(new Date(Date.now() + 60_000), { dryRun: true });
        if (pendingVisible) expect(dry.removed).toBeGreaterThanOrEqual(1);
        const swept = await store.gcPending(new Date(Date.now() + 60_000));
        expect(swept.removed).toBe(dry.removed);
        expect((await store.gcPending(new Date(Date.now() + 60_000), { dryRun: true })).removed).toBe(0);
        // What gc removed was never the committed artifact.
        expect((await store.stat(KEY))!.sha256).toBe(sha(after));
      }, 180_000);
    },
  );
}

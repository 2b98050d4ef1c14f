/**
 * Put/get throughput of a 30 MB model on each artifact store: fs (a temp folder), postgres on the
 * server of DATABASE_URL (skipped without it), postgres on embedded PGlite (in memory), and s3 on
 * an in-process s3rver (or your endpoint: ARTIFACT_S3_ENDPOINT, ARTIFACT_S3_BUCKET and keys).
 * Each put streams from a file; each get streams into a SHA-256 (the bytes are checked).
 * Prints a markdown table and writes it to bench/results/artifacts.md.
 *
 *   npm run bench:artifacts [-- --mb 30 --runs 3]
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import S3rver from 's3rver';
import { FsArtifactStore, PgArtifactStore, S3ArtifactStore, type ArtifactStore } from '@detsearch/artifacts';
import { createDataSource } from '@detsearch/persistence';

const ROOT = resolve(__dirname, '..');
const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
};
const MB = arg('mb', 30);
const RUNS = arg('runs', 3);

interface Target {
  name: string;
  open(): Promise<{ store: ArtifactStore; close(): Promise<void> } | { skip: string }>;
}

const targets: Target[] = [
  {
    name: 'fs (temp folder, same disk)',
    async open() {
      const dir = mkdtempSync(join(tmpdir(), 'bench-art-fs-'));
      return {
        store: new FsArtifactStore(dir),
        close: async () => rmSync(dir, { recursive: true, force: true }),
      };
    },
  },
  {
    name: 'postgres (server, DATABASE_URL)',
    async open() {
      const url = process.env.DATABASE_URL;
      if (!url) return { skip: 'DATABASE_URL not set' };
      const schema = `bench_art_${process.pid}`;
      const db = await createDataSource({ databaseUrl: url, schema });
      return {
        store: new PgArtifactStore(db),
        close: async () => {
          await db.query(`DROP SCHEMA "${schema}" CASCADE`);
          await db.close();
        },
      };
    },
  },
  {
    name: 'postgres (embedded PGlite, in memory)',
    async open() {
      const db = await createDataSource({ inMemory: true });
      return { store: new PgArtifactStore(db), close: () => db.close() };
    },
  },
  {
    name: process.env.ARTIFACT_S3_ENDPOINT
      ? `s3 (${process.env.ARTIFACT_S3_ENDPOINT})`
      : 's3 (in-process s3rver)',
    async open() {
      const env = process.env;
      if (env.ARTIFACT_S3_ENDPOINT && env.ARTIFACT_S3_BUCKET) {
        const store = new S3ArtifactStore({
          endpoint: env.ARTIFACT_S3_ENDPOINT,
          bucket: env.ARTIFACT_S3_BUCKET,
          region: env.ARTIFACT_S3_REGION ?? 'us-east-1',
          ...(env.ARTIFACT_S3_ACCESS_KEY_ID && env.ARTIFACT_S3_SECRET_ACCESS_KEY
            ? {
                accessKeyId: env.ARTIFACT_S3_ACCESS_KEY_ID,
                secretAccessKey: env.ARTIFACT_S3_SECRET_ACCESS_KEY,
              }
            : {}),
          prefix: `bench-${process.pid}`,
        });
        return { store, close: () => store.close() };
      }
      const dir = mkdtempSync(join(tmpdir(), 'bench-s3rver-'));
      const server = new S3rver({
        port: 0,
        address: '127.0.0.1',
        silent: true,
        directory: dir,
        configureBuckets: [{ name: 'bench' }],
      });
      const addr = await server.run();
      const store = new S3ArtifactStore({
        endpoint: `http://127.0.0.1:${addr.port}`,
        bucket: 'bench',
        accessKeyId: 'S3RVER',
        secretAccessKey: 'S3RVER',
      });
      return {
        store,
        close: async () => {
          await store.close();
          await server.close();
          rmSync(dir, { recursive: true, force: true });
        },
      };
    },
  },
];

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  const scratch = mkdtempSync(join(tmpdir(), 'bench-art-'));
  const model = join(scratch, 'model.onnx');
  const bytes = randomBytes(MB * 1e6);
  writeFileSync(model, bytes);
  const expected = createHash('sha256').update(bytes).digest('hex');
  const load0 = loadavg();
  const rows: string[] = [];
  for (const t of targets) {
    const opened = await t.open();
    if ('skip' in opened) {
      rows.push(`| ${t.name} | skipped: ${opened.skip} | | | |`);
      continue;
    }
    const { store } = opened;
    const puts: number[] = [];
    const gets: number[] = [];
    try {
      for (let r = 0; r < RUNS; r++) {
        const key = `bench/run-${r}/model-fp32.onnx`;
        let t0 = performance.now();
        const info = await store.put(key, createReadStream(model));
        puts.push((performance.now() - t0) / 1000);
        if (info.sha256 !== expected) throw new Error(`${t.name}: put checksum differs`);
        t0 = performance.now();
        const got = (await store.get(key))!;
        const h = createHash('sha256');
        for await (const chunk of got.stream) h.update(chunk as Buffer);
        gets.push((performance.now() - t0) / 1000);
        if (h.digest('hex') !== expected) throw new Error(`${t.name}: bytes read back differ`);
        await store.delete(key);
      }
    } finally {
      await opened.close();
    }
    const mbps = (s: number) => (MB / s).toFixed(1);
    rows.push(
      `| ${t.name} | ${median(puts).toFixed(2)} | ${mbps(median(puts))} | ${median(gets).toFixed(2)} | ${mbps(median(gets))} |`,
    );
    process.stderr.write(`${rows[rows.length - 1]}\n`);
  }
  rmSync(scratch, { recursive: true, force: true });
  const load1 = loadavg();
  const fmt = (l: number[]) => l.map((x) => x.toFixed(2)).join(' / ');
  const table = [
    `# Artifact store throughput (${MB} MB model, median of ${RUNS})`,
    '',
    '`npm run bench:artifacts`' + (MB !== 30 || RUNS !== 3 ? ` -- --mb ${MB} --runs ${RUNS}` : ''),
    '',
    `${new Date().toISOString()}; host: ${cpus().length} cores (${cpus()[0]?.model ?? 'unknown'}); load average (1/5/15 min) ` +
      `${fmt(load0)} at start, ${fmt(load1)} at the end. Puts stream from a file, gets stream into a SHA-256 ` +
      'that is compared with the bytes written. Postgres and s3rver run on this same machine.',
    '',
    '| store | put s | put MB/s | get s | get MB/s |',
    '|---|---:|---:|---:|---:|',
    ...rows,
    '',
  ].join('\n');
  process.stdout.write(`${table}\n`);
  const dir = join(ROOT, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'artifacts.md'), table);
}

main().then(
  () => process.exit(0),
  (err) => {
    process.stderr.write(`${(err as Error).stack ?? err}\n`);
    process.exit(1);
  },
);

import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// The built CLI (npm run build first) on the embedded database with the fs artifact store.
const root = join(__dirname, '../..');
const bin = join(root, 'bin/detsearch.js');
let work: string;

function cli(args: string[]) {
  const r = spawnSync(process.execPath, [bin, ...args], {
    cwd: work,
    encoding: 'utf8',
    timeout: 180_000,
    env: {
      ...process.env,
      DATABASE_URL: '',
      DATA_ROOT: '',
      ARTIFACT_STORE: '',
      DETSEARCH_HOME: join(work, 'home'),
    },
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'detsearch-cli-art-'));
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('detsearch gc and artifacts', () => {
  it('gc --dry-run lists orphans and a dead upload, gc removes them; artifacts shows a search’s sizes', () => {
    const search = JSON.parse(
      cli(['search', '--evaluator', 'surrogate', '--trials', '2', '--json', '--no-progress']).stdout,
    ) as { searchId: string };
    // An orphan (its search does not exist) and an upload a killed writer left two hours ago.
    const data = join(work, 'home', 'artifacts', 'data', 'searches', '00000000-0000-4000-8000-000000000dea');
    mkdirSync(join(data, 'trials', 't', 'a1'), { recursive: true });
    writeFileSync(join(data, 'trials', 't', 'a1', 'model-fp32.onnx'), Buffer.alloc(1000));
    const pending = join(work, 'home', 'artifacts', 'pending');
    mkdirSync(pending, { recursive: true });
    writeFileSync(join(pending, 'dead-upload'), Buffer.alloc(500));
    const old = new Date(Date.now() - 2 * 3_600_000);
    utimesSync(join(pending, 'dead-upload'), old, old);

    const dry = cli(['gc', '--dry-run', '--json']);
    expect(dry.status, dry.stderr).toBe(0);
    expect(JSON.parse(dry.stdout)).toMatchObject({
      dryRun: true,
      store: 'fs',
      scanned: 1,
      orphans: [
        { key: 'searches/00000000-0000-4000-8000-000000000dea/trials/t/a1/model-fp32.onnx', size: 1000 },
      ],
      orphanBytes: 1000,
      pending: { removed: 1, bytes: 500 },
    });
    const done = cli(['gc']);
    expect(done.status, done.stderr).toBe(0);
    expect(done.stdout).toMatch(/removed 1 orphans \(0\.00 MB\) and 1 stale pending uploads/);
    expect(JSON.parse(cli(['gc', '--dry-run', '--json']).stdout)).toMatchObject({ scanned: 0, orphans: [] });

    // Surrogate trials export nothing: the search holds no artifacts.
    const listed = cli(['artifacts', search.searchId, '--json']);
    expect(listed.status, listed.stderr).toBe(0);
    expect(JSON.parse(listed.stdout)).toMatchObject({
      searchId: search.searchId,
      store: 'fs',
      count: 0,
      bytes: 0,
    });
    const missing = cli(['artifacts', '00000000-0000-4000-8000-000000000000']);
    expect(missing.status).toBe(2);
    expect(missing.stderr).toMatch(/^detsearch: search .* not found\n$/);
  }, 240_000);
});

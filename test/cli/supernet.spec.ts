import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { synthDataset } from '@detsearch/training';

const root = join(__dirname, '../..');
const home = mkdtempSync(join(tmpdir(), 'cli-supernet-'));

function cli(...args: string[]) {
  const r = spawnSync(process.execPath, ['-r', '@swc-node/register', 'apps/cli/src/main.ts', ...args], {
    cwd: root,
    encoding: 'utf8',
    timeout: 120_000,
    env: { ...process.env, DETSEARCH_HOME: home, DATABASE_URL: '' },
  });
  const stderr = r.stderr
    .split('\n')
    .filter((l) => l.trim() && !l.startsWith('npm warn'))
    .join('\n');
  return { status: r.status, stdout: r.stdout, stderr };
}

// Each command is a process that loads the CLI (and, for some, opens an embedded database): slow
// on a loaded machine, so these tests get room.
describe('detsearch supernet and search --evaluator supernet', { timeout: 240_000 }, () => {
  afterAll(() => rmSync(home, { recursive: true, force: true }));

  it('supernet list --json prints one object with the supernets (none yet)', () => {
    const r = cli('supernet', 'list', '--json');
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ items: [] });
  });

  it('supernet train: bad input is one line on stderr, exit 2, nothing on stdout', () => {
    const none = cli('supernet', 'train', '--json');
    expect(none).toMatchObject({ status: 2, stdout: '' });
    expect(none.stderr).toMatch(/^detsearch: --preset or --space/);
    const both = cli('supernet', 'train', '--preset', 'quick-demo', '--space', 'x.yaml', '--json');
    expect(both.status).toBe(2);
    const minutes = cli('supernet', 'train', '--preset', 'quick-demo', '--minutes', '0', '--json');
    expect(minutes.status).toBe(2);
    expect(minutes.stderr).toMatch(/--minutes/);
  });

  it('supernet train --data reads a dataset outside the working directory (no DATA_ROOT set)', async () => {
    const elsewhere = mkdtempSync(join(tmpdir(), 'cli-supernet-data-'));
    try {
      const { yaml } = await synthDataset(join(elsewhere, 'data'), { images: 10, size: 64, seed: 1 });
      const r = cli(
        'supernet',
        'train',
        '--preset',
        'quick-demo',
        '--data',
        yaml,
        '--minutes',
        '0.02',
        '--json',
      );
      expect(r.stderr).not.toMatch(/DATA_ROOT/);
      expect(r.status).toBe(0);
      const out = JSON.parse(r.stdout) as { status: string; dataset: string; epochs: number };
      expect(out).toMatchObject({ status: 'ready', dataset: yaml });
    } finally {
      rmSync(elsewhere, { recursive: true, force: true });
    }
  });

  it('search: supernet flags need --evaluator supernet; an unknown --supernet is refused naming it', () => {
    const wrong = cli('search', '--evaluator', 'surrogate', '--supernet', 'abc', '--json');
    expect(wrong).toMatchObject({ status: 2, stdout: '' });
    expect(wrong.stderr).toBe('detsearch: --supernet: only with --evaluator supernet');
    const unknown = cli(
      'search',
      '--evaluator',
      'supernet',
      '--supernet',
      '00000000-0000-4000-8000-000000000000',
      '--json',
    );
    expect(unknown).toMatchObject({ status: 2, stdout: '' });
    expect(unknown.stderr).toMatch(
      /^detsearch: supernetId: supernet 00000000-0000-4000-8000-000000000000 not found/,
    );
    const seeds = cli('search', '--evaluator', 'supernet', '--finetune-seeds', '3', '--json');
    expect(seeds.status).toBe(2);
    expect(seeds.stderr).toMatch(/--finetune-seeds/);
    const adapt = cli('search', '--evaluator', 'full', '--supernet-adapt-steps', '5', '--json');
    expect(adapt).toMatchObject({ status: 2, stdout: '' });
    expect(adapt.stderr).toBe('detsearch: --supernet-adapt-steps: only with --evaluator supernet');
    const negative = cli('search', '--evaluator', 'supernet', '--supernet-adapt-steps', '-1', '--json');
    expect(negative.status).toBe(2);
    expect(negative.stderr).toMatch(/--supernet-adapt-steps/);
  });
});

import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// Runs the built CLI (npm run build first), as a user would, from a folder outside the repository.
const root = join(__dirname, '../..');
const bin = join(root, 'bin/detsearch.js');
let work: string;

function cli(args: string[], env: NodeJS.ProcessEnv = {}) {
  const r = spawnSync(process.execPath, [bin, ...args], {
    cwd: work,
    encoding: 'utf8',
    timeout: 180_000,
    env: { ...process.env, DATABASE_URL: '', DATA_ROOT: '', DETSEARCH_HOME: join(work, 'home'), ...env },
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}
const json = (r: { stdout: string }) => JSON.parse(r.stdout);

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'detsearch-cli-'));
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('user-facing commands', () => {
  it('--version prints the package version', () => {
    const r = cli(['--version']);
    expect(r.status).toBe(0);
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };
    expect(r.stdout.trim()).toBe(pkg.version);
  });

  it('presets lists every preset with its budget, synthetic data and an estimated time', () => {
    const r = cli(['presets', '--json']);
    expect(r.status).toBe(0);
    const { presets } = json(r) as {
      presets: {
        name: string;
        trials: number;
        epochs: number;
        synthetic: boolean;
        estimate: { seconds: number };
      }[];
    };
    const byName = new Map(presets.map((p) => [p.name, p]));
    expect([...byName.keys()]).toEqual(expect.arrayContaining(['quick-demo', 'raspberry-pi-4-realtime']));
    expect(byName.get('raspberry-pi-4-realtime')).toMatchObject({ trials: 200, epochs: 30, synthetic: true });
    expect(byName.get('raspberry-pi-4-realtime')!.estimate.seconds).toBeGreaterThan(3600);
    expect(byName.get('quick-demo')!.estimate.seconds).toBeLessThan(3600);
    const text = cli(['presets']).stdout;
    expect(text).toMatch(/raspberry-pi-4-realtime .*200 x 30 .*synthetic/);
    expect(text).toMatch(/--data/);
  });

  it('dataset synth then dataset check works anywhere; with DATA_ROOT set elsewhere it says how to fix it', () => {
    const out = join(work, 'shapes');
    expect(cli(['dataset', 'synth', '--out', out, '--images', '10', '--size', '64']).status).toBe(0);
    const ok = cli(['dataset', 'check', '--data', join(out, 'data.yaml'), '--json']);
    expect(ok.status).toBe(0);
    expect(json(ok)).toMatchObject({ nc: 6, train: { images: 8 }, val: { images: 2 } });
    const confined = cli(['dataset', 'check', '--data', join(out, 'data.yaml')], { DATA_ROOT: root });
    expect(confined.status).toBe(2);
    expect(confined.stderr).toMatch(/outside DATA_ROOT .*set DATA_ROOT, e\.g\. DATA_ROOT=/);
  });

  it('export without weights says it is untrained; predict draws boxes and writes what evaluate reads', () => {
    const genome = '{"depthMultiple":0.33,"widthMultiple":0.125,"imageSize":64,"numClasses":6}';
    const model = join(work, 'm.onnx');
    const exp = cli(['export', '--genome', genome, '--out', model]);
    expect(exp.status).toBe(0);
    expect(exp.stderr).toMatch(/UNTRAINED/);
    const data = join(work, 'shapes');
    if (!existsSync(data)) cli(['dataset', 'synth', '--out', data, '--images', '10', '--size', '64']);
    const pred = cli([
      'predict',
      '--onnx',
      model,
      '--images',
      join(data, 'images', 'val'),
      '--out',
      join(work, 'pred'),
      '--conf',
      '0.0001',
      '--json',
    ]);
    expect(pred.status).toBe(0);
    const p = json(pred);
    expect(p).toMatchObject({ imageSize: 64, numClasses: 6, images: 2 });
    expect(p.files.every((f: string) => f.endsWith('.png') && existsSync(f))).toBe(true);
    const rows = JSON.parse(readFileSync(p.predictions, 'utf8')) as { image: string; box: number[] }[];
    expect(rows.length).toBe(p.detections);
    const ev = cli([
      'evaluate',
      '--predictions',
      p.predictions,
      '--labels',
      join(data, 'labels', 'val'),
      '--img',
      '64',
    ]);
    expect(ev.status).toBe(0);
    // Image names with an extension match too; names that match nothing are an error, not mAP 0.
    const withExt = join(work, 'with-ext.json');
    writeFileSync(withExt, JSON.stringify(rows.map((r) => ({ ...r, image: `${r.image}.png` }))));
    expect(cli(['evaluate', '--predictions', withExt, '--labels', join(data, 'labels', 'val')]).status).toBe(
      0,
    );
    const wrong = join(work, 'wrong.json');
    writeFileSync(wrong, JSON.stringify(rows.map((r) => ({ ...r, image: `x${r.image}` }))));
    const bad = cli(['evaluate', '--predictions', wrong, '--labels', join(data, 'labels', 'val')]);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/none of the .* predictions names an image/);
    const lat = cli(['latency', '--onnx', model, '--runs', '2', '--warmup', '0', '--json']);
    expect(json(lat).threads).toBe(1);
  });

  it('search prints the estimate and id first; trial numbers and report work on the stored search', () => {
    const r = cli([
      'search',
      '--evaluator',
      'surrogate',
      '--trials',
      '4',
      '--seed',
      '1',
      '--json',
      '--no-progress',
    ]);
    expect(r.status).toBe(0);
    const out = json(r);
    expect(out.estimate).toMatchObject({ trials: 4, evaluator: 'surrogate' });
    expect(out.estimate.seconds).toBeLessThan(60);
    expect(out.dataset).toMatchObject({ synthetic: true });
    expect(r.stderr.indexOf('estimate: ')).toBeLessThan(r.stderr.indexOf(`search ${out.searchId} started`));
    expect(out.files.some((f: string) => f.endsWith('README.txt'))).toBe(true);
    expect(JSON.parse(readFileSync(join(out.out, 'pareto.json'), 'utf8')).dataset.synthetic).toBe(true);

    const yaml = cli(['export-yaml', '--trial', '0', '--search', out.searchId]);
    expect(yaml.status).toBe(0);
    expect(yaml.stdout).toMatch(/^# YOLOv5 architecture found by detsearch/);
    expect(cli(['export-yaml', '--trial', '0']).status).toBe(2);
    expect(cli(['export-yaml', '--trial', '99', '--search', out.searchId]).stderr).toMatch(
      /no trial number 99/,
    );

    const dir = join(work, 'report');
    const rep = cli(['report', out.searchId, '--out', dir, '--json']);
    expect(rep.status).toBe(0);
    for (const f of [
      'leaderboard.csv',
      'pareto.json',
      'pareto.csv',
      'pareto.svg',
      'pareto.png',
      'hypervolume.png',
    ])
      expect(existsSync(join(dir, f))).toBe(true);
    expect(readFileSync(join(dir, 'leaderboard.csv'), 'utf8')).toBe(
      readFileSync(join(out.out, 'leaderboard.csv'), 'utf8'),
    );
    expect(cli(['report', 'no-such-search']).status).toBe(2);
  });

  it('a second search starts from the first one unless --no-warm-start; reused trials are marked in pareto.json', () => {
    const args = [
      'search',
      '--evaluator',
      'surrogate',
      '--trials',
      '2',
      '--seed',
      '7',
      '--json',
      '--no-progress',
    ];
    const first = json(cli([...args, '--no-warm-start', '--out', join(work, 'w0')]));
    expect(first.trials).toMatchObject({ total: 2, reused: 0 });
    const warm = json(cli([...args, '--out', join(work, 'w1')]));
    expect(warm.trials.total).toBe(2);
    expect(warm.trials.reused).toBeGreaterThan(0);
    const pareto = JSON.parse(readFileSync(join(warm.out, 'pareto.json'), 'utf8'));
    expect(pareto.points.every((p: { reused: unknown }) => typeof p.reused === 'boolean')).toBe(true);
    expect(warm.pareto.every((p: { reused: unknown }) => typeof p.reused === 'boolean')).toBe(true);
    expect(readFileSync(join(warm.out, 'pareto.csv'), 'utf8').split('\n')[0]).toContain('reused');
    const cold = json(cli([...args, '--no-warm-start', '--out', join(work, 'w2')]));
    expect(cold.trials).toMatchObject({ total: 2, reused: 0 });
  });
});

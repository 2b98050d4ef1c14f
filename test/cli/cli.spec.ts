import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(__dirname, '../..');
function cli(...args: string[]) {
  const r = spawnSync(process.execPath, ['-r', '@swc-node/register', 'apps/cli/src/main.ts', ...args], {
    cwd: root,
    encoding: 'utf8',
    timeout: 120_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('detsearch command line', () => {
  it('describe --json gives Ultralytics-exact counts as one JSON object', () => {
    const r = cli('describe', '--model', 'yolov5n', '--json');
    expect(r.status).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out).toMatchObject({ params: 1_872_157, gflops: 4.468, layers: 25 });
    expect(out.outputShapes[0]).toEqual([1, 255, 80, 80]);
  });

  it('rejects a bad genome with one line naming the field and exit 2', () => {
    const r = cli(
      'describe',
      '--genome',
      '{"depthMultiple":0.33,"widthMultiple":0.25,"imageSize":650}',
      '--json',
    );
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    expect(
      r.stderr
        .trim()
        .split('\n')
        .filter((l) => !l.startsWith('npm warn')),
    ).toEqual(['detsearch: imageSize: must be a multiple of 32 (the largest stride)']);
  });

  it('latency --genome says the latency is predicted, by which profile, calibrated on what', () => {
    const genome = '{"depthMultiple":0.33,"widthMultiple":0.5,"numClasses":80,"imageSize":640}';
    const r = cli('latency', '--genome', genome, '--profile', 'nvidia-v100', '--precision', 'fp16', '--json');
    expect(r.status).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out).toMatchObject({
      profile: 'nvidia-v100',
      calibrated: true,
      latencySource: 'predicted',
      latencyProvenance:
        'predicted for nvidia-v100 (roofline fitted to 6 published figures listed in its profile)',
    });
    // The V100 table's yolov5s: 378 FPS at bs=1 (2.65 ms with NMS); the network alone is a bit less.
    expect(out.predictedMs).toBeGreaterThan(1);
    expect(out.predictedMs).toBeLessThan(3.5);
  });

  it('bench-strategy runs a strategy on a test problem', () => {
    const r = cli('bench-strategy', '--strategy', 'random', '--problem', 'branin', '--evals', '20', '--json');
    expect(r.status).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out).toMatchObject({ strategy: 'random', problem: 'branin', evals: 20, hypervolume: null });
    expect(out.best).toBeGreaterThan(0.397);
  });
});

import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildIR, initWeights, parseGenome } from '@detsearch/genome';
import { buildOnnxModel } from '@detsearch/model-onnx';

const root = resolve(__dirname, '../..');
const dir = mkdtempSync(join(tmpdir(), 'cli-latency-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function cli(
  args: string[],
  env: NodeJS.ProcessEnv = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(
      process.execPath,
      ['-r', '@swc-node/register', join(root, 'apps/cli/src/main.ts'), ...args],
      { cwd: root, timeout: 120_000, env: { ...process.env, DETSEARCH_HOME: join(dir, 'home'), ...env } },
      (err, stdout, stderr) =>
        done({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

const genome = { depthMultiple: 0.33, widthMultiple: 0.125, imageSize: 64, numClasses: 2 };

describe('detsearch latency', () => {
  it('measures an ONNX file, predicts a genome on a profile, and rejects bad usage with exit 2', async () => {
    const ir = buildIR(parseGenome(genome));
    const onnx = join(dir, 'tiny.onnx');
    writeFileSync(onnx, buildOnnxModel(ir, initWeights(ir), { precision: 'fp32' }));
    const g = JSON.stringify(genome);
    // Each call is a fresh node + swc process (seconds on a busy 2-core machine): keep them few.
    const [measured, predicted, tpuFp32] = await Promise.all([
      cli(['latency', '--onnx', onnx, '--runs', '3', '--warmup', '1', '--threads', '1', '--json']),
      cli(['latency', '--genome', g, '--profile', 'raspberry-pi-4', '--json']),
      cli(['latency', '--genome', g, '--onnx', onnx, '--profile', 'coral-edge-tpu', '--json']),
    ]);
    expect(measured.code).toBe(0);
    const m = JSON.parse(measured.stdout) as Record<string, number>;
    expect(m.runs).toBe(3);
    expect(m.threads).toBe(1);
    expect(m.medianMs).toBeGreaterThan(0);
    expect(m.p90Ms).toBeGreaterThanOrEqual(m.medianMs!);

    expect(predicted.code).toBe(0);
    const p = JSON.parse(predicted.stdout) as Record<string, unknown>;
    expect(p).toMatchObject({ profile: 'raspberry-pi-4', precision: 'fp32', calibrated: false });
    expect(p.predictedMs).toBeGreaterThan(0);
    expect(['compute', 'memory', 'mixed']).toContain(p.bound);

    expect(tpuFp32.code).toBe(2);
    expect(tpuFp32.stdout).toBe('');
    expect(tpuFp32.stderr).toMatch(/^detsearch: latency: give exactly one of --onnx or --genome\n$/);
  });

  it('calibrates a profile from measurements made elsewhere and then predicts with the fitted profile', async () => {
    const home = join(dir, 'fitted-home');
    // As if measured on a (very slow) device with `detsearch latency --onnx`.
    const rows = [64, 96, 128].map((imageSize, i) => ({
      genome: { ...genome, imageSize, widthMultiple: [0.125, 0.25, 0.125][i] },
      medianMs: 5000 + 1000 * i,
    }));
    const fit = await cli(
      ['calibrate', '--profile', 'raspberry-pi-4', '--measurements', JSON.stringify(rows), '--json'],
      { DETSEARCH_HOME: home },
    );
    expect(fit.code).toBe(0);
    const f = JSON.parse(fit.stdout) as { path: string; samples: number; fits: { precision: string }[] };
    expect(f.samples).toBe(3);
    expect(f.fits.map((x) => x.precision)).toEqual(['fp32']);
    expect(f.path).toBe(join(home, 'profiles', 'raspberry-pi-4.yaml'));
    expect(readFileSync(f.path, 'utf8')).toMatch(/^# Fitted by detsearch/);
    const r = await cli(
      ['latency', '--genome', JSON.stringify(genome), '--profile', 'raspberry-pi-4', '--json'],
      {
        DETSEARCH_HOME: home,
      },
    );
    expect(r.code).toBe(0);
    const p = JSON.parse(r.stdout) as { predictedMs: number; calibrated: boolean };
    expect(p.calibrated).toBe(true);
    expect(p.predictedMs).toBeGreaterThan(1000);
  });
});

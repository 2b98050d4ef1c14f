import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { PNG } from 'pngjs';
import { afterAll, describe, expect, it } from 'vitest';
import { buildIR, initWeights, parseGenome } from '@detsearch/genome';
import { buildOnnxModel, checkModel, saveWeights } from '@detsearch/model-onnx';

const root = resolve(__dirname, '../../../..');
const dir = mkdtempSync(join(tmpdir(), 'cli-export-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(
      process.execPath,
      ['-r', '@swc-node/register', join(root, 'apps/cli/src/main.ts'), ...args],
      { cwd: root, timeout: 120_000 },
      (err, stdout, stderr) =>
        done({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

const genome = { depthMultiple: 0.33, widthMultiple: 0.25, imageSize: 64, numClasses: 2, separable: [5] };

describe('detsearch export', () => {
  it('writes the fp32 model of given weights, int8 calibrated on a folder, and rejects bad input', async () => {
    const ir = buildIR(parseGenome(genome));
    const weights = initWeights(ir, { seed: 'cli', randomizeBatchNorm: true });
    const weightsPath = join(dir, 'w.safetensors');
    saveWeights(weightsPath, weights, { ir });
    const images = join(dir, 'images');
    mkdirSync(images);
    for (let i = 0; i < 2; i++) {
      const png = new PNG({ width: 40, height: 30 });
      for (let p = 0; p < png.data.length; p++) png.data[p] = p % 4 === 3 ? 255 : (p * (i + 3)) % 256;
      writeFileSync(join(images, `im${i}.png`), PNG.sync.write(png));
    }
    const g = JSON.stringify(genome);
    const [fp32, int8, badPrecision, badWeights] = await Promise.all([
      cli([
        'export',
        '--genome',
        g,
        '--precision',
        'fp32',
        '--weights',
        weightsPath,
        '--out',
        join(dir, 'a.onnx'),
        '--json',
      ]),
      cli([
        'export',
        '--genome',
        g,
        '--precision',
        'int8',
        '--granularity',
        'per-tensor',
        '--calibration-images',
        images,
        '--out',
        join(dir, 'sub/b.onnx'),
        '--json',
      ]),
      cli(['export', '--genome', g, '--precision', 'int4', '--out', join(dir, 'c.onnx'), '--json']),
      cli([
        'export',
        '--genome',
        JSON.stringify({ ...genome, numClasses: 5 }),
        '--weights',
        weightsPath,
        '--out',
        join(dir, 'd.onnx'),
      ]),
    ]);

    expect(fp32.code, fp32.stderr).toBe(0);
    const a = JSON.parse(fp32.stdout);
    expect(a).toMatchObject({
      path: join(dir, 'a.onnx'),
      precision: 'fp32',
      opset: 17,
      weights: weightsPath,
    });
    const bytes = new Uint8Array(readFileSync(a.path));
    expect(a.bytes).toBe(bytes.length);
    // The CLI adds nothing of its own: the same bytes as the library export of those weights.
    expect(Buffer.from(bytes).equals(Buffer.from(buildOnnxModel(ir, weights, { precision: 'fp32' })))).toBe(
      true,
    );

    expect(int8.code, int8.stderr).toBe(0);
    const b = JSON.parse(int8.stdout);
    expect(b).toMatchObject({
      precision: 'int8',
      scheme: 'static',
      granularity: 'per-tensor',
      calibrationImages: 2,
    });
    expect(b.calibrationSource).toBe(images);
    expect(checkModel(new Uint8Array(readFileSync(join(dir, 'sub/b.onnx')))).valid).toBe(true);
    expect(int8.stderr).not.toMatch(/synthetic/);

    expect(badPrecision.code).toBe(2);
    expect(badPrecision.stdout).toBe('');
    expect(badPrecision.stderr.trim().split('\n')).toHaveLength(1);
    expect(badPrecision.stderr).toMatch(/precision/);

    expect(badWeights.code).toBe(2);
    expect(badWeights.stderr).toMatch(/--weights: .* does not fit the genome .*model\.24\.m\.0\.weight/);
  });
});

/**
 * Does the supernet's training loop learn like the standalone trainer, step for step? Both train the
 * same one-architecture space (so the sandwich's largest, smallest and random sub-networks are one
 * network, and in-place distillation has nothing to teach) on the same data for the same epochs,
 * concurrently, and report validation mAP@0.5. Separates "the supernet trainer is broken" from
 * "the supernet needs more steps": a sandwich step costs about three standalone steps.
 *
 *   node -r @swc-node/register bench/supernet-parity.ts [--epochs 6] [--images 400] [--size 128]
 *        [--depth 0.33] [--width 0.25]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { compileSearchSpace, validateSearchSpaceSpec } from '@detsearch/search-space';
import { largestGenome, trainSupernet } from '@detsearch/supernet';
import { runTrial, synthDataset } from '@detsearch/training';
import { arg } from './bench-kit';

const epochs = Number(arg('epochs', '6'));
const images = Number(arg('images', '400'));
const size = Number(arg('size', '128'));

async function main(): Promise<void> {
  const root = mkdtempSync(join(tmpdir(), 'bench-supernet-parity-'));
  const load0 = loadavg()[0]!;
  try {
    const synth = await synthDataset(join(root, 'data'), { images, seed: 0, size });
    const dataset = { dataYaml: synth.yaml, dataRoot: root };
    const spec = validateSearchSpaceSpec({
      name: 'parity',
      depthMultiple: { type: 'ordinal', values: [Number(arg('depth', '0.33'))] },
      widthMultiple: { type: 'ordinal', values: [Number(arg('width', '0.25'))] },
      imageSize: { type: 'ordinal', values: [size] },
      activation: 'silu',
      numClasses: 6,
    });
    const genome = largestGenome(compileSearchSpace(spec), { activation: 'silu', numClasses: 6 });
    const t0 = performance.now();
    const minutes = () => ((performance.now() - t0) / 60_000).toFixed(1);
    const [sn, alone] = await Promise.all([
      trainSupernet({
        space: spec,
        activation: 'silu',
        dataset,
        outDir: join(root, 'supernet'),
        epochs,
        seed: 0,
        maxValImages: 100,
      }).then((r) => ({ ...r, wall: minutes() })),
      runTrial(
        {
          genome,
          dataset,
          epochs,
          evalEvery: epochs,
          hardwareProfile: 'x86-server',
          seed: 0,
          outDir: join(root, 'standalone'),
          latencyRuns: 1,
          maxValImages: 100,
          workers: 0,
        },
        {},
      ).then((r) => ({ ...r, wall: minutes() })),
    ]);
    const lines = [
      `supernet-parity ${new Date().toISOString()}: ${images} synthetic images of ${size} px, ${epochs} epochs,` +
        ` genome d${genome.depthMultiple} w${genome.widthMultiple}; load ${load0.toFixed(1)} -> ${loadavg()[0]!.toFixed(1)}`,
      `supernet trainer (AdamW, sandwich of one network): mAP@0.5 ${sn.metrics.largestMap50.toFixed(3)} after ${sn.metrics.steps} steps, ${sn.wall} min`,
      `standalone trainer (SGD, Ultralytics schedule, EMA): mAP@0.5 ${alone.map50.toFixed(3)} (fp32 ${alone.fp32Map50.toFixed(3)}), ${alone.wall} min`,
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});

/**
 * Supernet training ablation: trains one supernet with the given settings for a fixed number of
 * epochs on small synthetic data and prints the largest and smallest sub-networks' val mAP@0.5
 * (BatchNorm recalibrated) and the largest's loss every 20 steps. Run it once per setting and
 * compare; the table in docs/supernet.md came from these runs (one seed each: differences under
 * about 0.01 are noise).
 *
 *   node -r @swc-node/register bench/supernet-ablation.ts [--epochs 6] [--images 400]
 *        [--depths 0.33,0.67] [--widths 0.125,0.1875,0.25] [--sep 4,6,17,20]
 *        [--distill 0] [--first 0.25] [--random 1]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { validateSearchSpaceSpec } from '@detsearch/search-space';
import { trainSupernet } from '@detsearch/supernet';
import { synthDataset } from '@detsearch/training';
import { arg } from './bench-kit';

const list = (name: string, fallback: string) => arg(name, fallback).split(',').filter(Boolean).map(Number);
const optional = (name: string) => (process.argv.includes(`--${name}`) ? Number(arg(name, '0')) : undefined);

async function main(): Promise<void> {
  const root = mkdtempSync(join(tmpdir(), 'bench-supernet-ablation-'));
  const load0 = loadavg()[0]!;
  try {
    const synth = await synthDataset(join(root, 'data'), {
      images: Number(arg('images', '400')),
      seed: 0,
      size: 128,
    });
    const sep = list('sep', '4,6,17,20');
    const spec = validateSearchSpaceSpec({
      name: 'ablation',
      depthMultiple: { type: 'ordinal', values: list('depths', '0.33,0.67') },
      widthMultiple: { type: 'ordinal', values: list('widths', '0.125,0.1875,0.25') },
      imageSize: { type: 'ordinal', values: [128] },
      ...(sep.length ? { separable: { type: 'subset' as const, layers: sep } } : {}),
      activation: 'silu',
      numClasses: 6,
    });
    const t0 = performance.now();
    const losses: string[] = [];
    const r = await trainSupernet({
      space: spec,
      activation: 'silu',
      dataset: { dataYaml: synth.yaml, dataRoot: root },
      outDir: join(root, 'supernet'),
      epochs: Number(arg('epochs', '6')),
      seed: 0,
      maxValImages: 100,
      randomSubnets: optional('random'),
      distillWeight: optional('distill'),
      largestFirst: optional('first'),
      onProgress: (p) => {
        if (p.phase === 'train' && p.step % 20 === 0) losses.push(p.loss.toFixed(3));
      },
    });
    process.stdout.write(
      `supernet-ablation ${process.argv.slice(2).join(' ') || '(defaults)'}: ${r.metrics.steps} steps in` +
        ` ${((performance.now() - t0) / 60_000).toFixed(1)} min (load ${load0.toFixed(1)} -> ${loadavg()[0]!.toFixed(1)});` +
        ` largest mAP@0.5 ${r.metrics.largestMap50.toFixed(3)}, smallest ${r.metrics.smallestMap50.toFixed(3)};` +
        ` largest's loss every 20 steps ${losses.join(' ')}\n`,
    );
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});

import type { Command } from 'commander';
import { describeGenome, standardGenome, STANDARD_MODELS } from '@detsearch/genome';
import { action, formatTable, parseIntOption, readJsonOrFile, UsageError } from '../cli-kit';

interface DescribeOptions {
  genome?: string;
  model?: string;
  classes?: number;
  img?: number;
  json?: boolean;
}

export function registerDescribe(program: Command): void {
  program
    .command('describe')
    .description(
      'architecture summary of a genome or a standard YOLOv5 model: params, GFLOPs, layers, outputs',
    )
    .option('--genome <file|json>', 'genome as inline JSON or a JSON/YAML file')
    .option('--model <name>', `standard model: ${Object.keys(STANDARD_MODELS).join(', ')}`)
    .option('--classes <n>', 'number of classes (with --model)', parseIntOption('classes', 1, 10_000))
    .option('--img <n>', 'image size (with --model)', parseIntOption('img', 32, 4096))
    .option('--json', 'one JSON object on stdout')
    .action(
      action<DescribeOptions>((o) => {
        if (!o.genome === !o.model) throw new UsageError('describe: give exactly one of --genome or --model');
        const genome = o.model
          ? standardGenome(o.model, o.classes ?? 80, o.img ?? 640)
          : readJsonOrFile(o.genome!, 'genome');
        const d = describeGenome(genome);
        const json = {
          genome: d.genome,
          params: d.params,
          gflops: Math.round(d.gflops * 1000) / 1000,
          layers: d.layers,
          irOps: d.irOps,
          fusedOps: d.fusedOps,
          weightBytes: d.weightBytes,
          activationBytes: d.activationBytes,
          outputShapes: d.outputShapes,
        };
        const table = formatTable(
          ['#', 'from', 'n', 'module', 'arguments'],
          d.rows.map((r) => [
            r.index,
            r.from.length === 1 ? r.from[0]! : `[${r.from.join(', ')}]`,
            r.repeats,
            r.separable ? `${r.block} (separable)` : r.block,
            `[${r.args.map((a) => (a === null ? 'None' : String(a))).join(', ')}]`,
          ]),
        );
        const text = `${table}\nsummary: ${d.layers} layers, ${d.params.toLocaleString('en-US')} parameters, ${d.gflops.toFixed(
          2,
        )} GFLOPs at ${d.genome.imageSize}, outputs ${d.outputShapes.map((s) => `[${s.join(', ')}]`).join(' ')}`;
        return { json, text };
      }),
    );
}

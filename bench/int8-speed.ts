/**
 * int8 speed-up over fp32 as onnxruntime's CPU provider runs the exports: yolov5n@320 and
 * yolov5s@640, SiLU and ReLU, one and two intra-op threads, fp16 beside them. Shared by
 * bench:runtime and bench:quant.
 *
 * Each cell is the best of interleaved rounds of a median of `runs`: on a shared machine a burst of
 * load then lands on every precision alike. One thread is also timed by CPU time (user + system of
 * this process), which another process's load does not inflate.
 */
import { cpus, loadavg } from 'node:os';
import {
  buildIR,
  initWeights,
  parseGenome,
  standardGenome,
  type Activation,
  type ModelIR,
  type WeightMap,
} from '@detsearch/genome';
import { buildOnnxModel, exportOnnx, syntheticCalibrationImages } from '@detsearch/model-onnx';
import { measureOnnx } from '../libs/latency/src/measure';

export interface SpeedRow {
  model: string;
  size: number;
  activation: Activation;
  threads: number;
  clock: 'wall' | 'cpu';
  fp32: number;
  fp16: number;
  int8: number;
}

/** The benchmark's model of one configuration: random weights with randomized BatchNorm. */
export function benchModel(model: 'yolov5n' | 'yolov5s', size: number, activation: Activation) {
  const ir = buildIR(parseGenome({ ...standardGenome(model, 80, size), activation }));
  return { ir, weights: initWeights(ir, { seed: 1, randomizeBatchNorm: true }) };
}

/** Its static int8 export as the tables time it: per-channel weights, min-max on 2 synthetic images. */
export function benchInt8(ir: ModelIR, weights: WeightMap, size: number): Promise<Uint8Array> {
  return exportOnnx(ir, weights, {
    precision: 'int8',
    quantization: { precision: 'int8', scheme: 'static', granularity: 'per-channel', calibration: 'minmax' },
    calibrationImages: syntheticCalibrationImages(size, 2, 'bench'),
  });
}

export async function measureInt8Speedups(
  options: { runs?: number; rounds?: number; log?: (s: string) => void } = {},
): Promise<SpeedRow[]> {
  const runs = options.runs ?? 20;
  const rounds = options.rounds ?? 3;
  const rows: SpeedRow[] = [];
  for (const [model, size] of [
    ['yolov5n', 320],
    ['yolov5s', 640],
  ] as const) {
    for (const activation of ['silu', 'relu'] as const) {
      const { ir, weights } = benchModel(model, size, activation);
      const models = {
        fp32: buildOnnxModel(ir, weights, { precision: 'fp32' }),
        fp16: buildOnnxModel(ir, weights, { precision: 'fp16' }),
        int8: await benchInt8(ir, weights, size),
      };
      const settings = [
        { threads: 1, clock: 'wall' as const },
        { threads: 1, clock: 'cpu' as const },
        { threads: 2, clock: 'wall' as const },
      ];
      for (const { threads, clock } of settings) {
        const best = { fp32: Infinity, fp16: Infinity, int8: Infinity };
        for (let round = 0; round < rounds; round++)
          for (const p of ['fp32', 'int8', 'fp16'] as const) {
            const m = await measureOnnx(models[p], { runs, warmup: 3, threads, clock });
            best[p] = Math.min(best[p], m.medianMs);
          }
        rows.push({ model, size, activation, threads, clock, ...best });
        options.log?.(
          `${model}@${size} ${activation} ${threads}t ${clock}: fp32 ${best.fp32.toFixed(2)} int8 ` +
            `${best.int8.toFixed(2)} (${(best.fp32 / best.int8).toFixed(2)}x) fp16 ${best.fp16.toFixed(2)} ms`,
        );
      }
    }
  }
  return rows;
}

export function speedTable(rows: SpeedRow[]): string[] {
  const f = (x: number) => x.toFixed(2);
  return [
    `${cpus()[0]?.model ?? 'cpu'}, ${cpus().length} cores, load average ${loadavg()[0]!.toFixed(2)} at the end.`,
    '',
    '| model | img | activation | threads | clock | fp32 ms | int8 ms | **int8 speed-up** | fp16 ms | fp16 vs fp32 |',
    '|---|---|---|---|---|---|---|---|---|---|',
    ...rows.map(
      (r) =>
        `| ${r.model} | ${r.size} | ${r.activation} | ${r.threads} | ${r.clock} | ${f(r.fp32)} | ${f(r.int8)} | **${f(
          r.fp32 / r.int8,
        )}x** | ${f(r.fp16)} | ${f(r.fp32 / r.fp16)}x |`,
    ),
    '',
    'int8 = static QDQ, per-channel int8 weights, uint8 activations, every row but the stem and Detect ' +
      'quantized; onnxruntime runs it as QLinearConv / QLinearSigmoid / QLinearMul / QLinearAdd / QLinearConcat ' +
      'with uint8 MaxPool and Resize (libs/model-onnx/src/int8-graph.spec.ts checks the optimized graph). ' +
      'fp16 = float16 weights and compute: onnxruntime has no fast fp16 kernels on x86 CPUs, so it is no ' +
      'faster than fp32 here; it matters on GPUs and NPUs, where the device profiles account for it. ' +
      '"cpu" = CPU time of one thread (robust to other processes\' load), "wall" = elapsed time.',
  ];
}

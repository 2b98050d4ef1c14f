/**
 * Runtime benchmark: for yolov5n and yolov5s at 320 and 640, onnxruntime fp32/fp16/int8
 * (static QDQ, per-channel) median latency, achieved GFLOPS (2 x MAC / time), the int8 speed-up over
 * fp32 and the tfjs-wasm forward time of the same model; one training step (forward + backward +
 * SGD update, batch 8, 320) on wasm with the new gradient kernels vs the cpu-kernel fallback; and this
 * machine's reference, an onnxruntime fp32 MatMul of 2048 x 2048 matrices.
 *
 *   npm run bench:runtime            (env: BENCH_RUNS, default 20; BENCH_THREADS, default all cores;
 *                                     BENCH_FALLBACK_LIMIT_MIN, default 15: the cpu-fallback step
 *                                     is stopped there and reported as a lower bound;
 *                                     BENCH_SKIP_FALLBACK=1 skips it)
 *
 * Prints a markdown table and writes it to bench/results/runtime.md.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import * as ort from 'onnxruntime-node';
import { buildIR, initWeights, modelCost, standardGenome, type ModelIR } from '@detsearch/genome';
import {
  buildOnnxModel,
  exportOnnx,
  OnnxGraphBuilder,
  PRODUCER,
  syntheticCalibrationImages,
} from '@detsearch/model-onnx';
import { initBackend, TfjsDetector, useWasmGradientKernels } from '@detsearch/model-tfjs';
import { measureOnnx } from '../libs/latency/src/measure';

const RUNS = Number(process.env.BENCH_RUNS ?? 20);
const THREADS = Number(process.env.BENCH_THREADS ?? cpus().length);
const FALLBACK_LIMIT_MIN = Number(process.env.BENCH_FALLBACK_LIMIT_MIN ?? 15);
const log = (s: string) => process.stderr.write(`${s}\n`);
const fmt = (x: number, digits = 1) => (Number.isFinite(x) ? x.toFixed(digits) : '-');

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  return n % 2 ? s[(n - 1) / 2]! : (s[n / 2 - 1]! + s[n / 2]!) / 2;
}

/** onnxruntime fp32 MatMul [n,n] x [n,n]: this machine's dense-compute reference in GFLOPS. */
async function matmulReference(n = 2048): Promise<{ ms: number; gflops: number }> {
  const g = new OnnxGraphBuilder('matmul_reference', 17);
  g.input('A', 'float32', [n, n]);
  const b = new Float32Array(n * n);
  for (let i = 0; i < b.length; i++) b[i] = ((i * 7919) % 1000) / 1000 - 0.5;
  g.initializer('B', 'float32', [n, n], b);
  g.output(g.node('MatMul', ['A', 'B'], [{ name: 'C', type: 'float32', dims: [n, n] }]));
  const m = await measureOnnx(g.encode(PRODUCER), { runs: RUNS, warmup: 3, threads: THREADS });
  return { ms: m.medianMs, gflops: (2 * n ** 3) / (m.medianMs * 1e6) };
}

interface ModelRow {
  model: string;
  size: number;
  gflops: number;
  fp32: number;
  fp16: number;
  int8: number;
  wasm: number;
}

async function onnxTimes(ir: ModelIR): Promise<{ fp32: number; fp16: number; int8: number }> {
  const weights = initWeights(ir, { seed: 1 });
  const fp32 = buildOnnxModel(ir, weights, { precision: 'fp32' });
  const fp16 = buildOnnxModel(ir, weights, { precision: 'fp16' });
  const int8 = await exportOnnx(ir, weights, {
    precision: 'int8',
    quantization: { precision: 'int8', scheme: 'static', granularity: 'per-channel', calibration: 'minmax' },
    calibrationImages: syntheticCalibrationImages(ir.genome.imageSize, 2, 'bench'),
  });
  const time = async (bytes: Uint8Array) =>
    (await measureOnnx(bytes, { runs: RUNS, warmup: 3, threads: THREADS })).medianMs;
  // Interleaved, so a burst of load on the shared machine does not land on one precision only.
  const t = { fp32: [] as number[], fp16: [] as number[], int8: [] as number[] };
  for (let round = 0; round < 2; round++) {
    t.fp32.push(await time(fp32));
    t.int8.push(await time(int8));
    t.fp16.push(await time(fp16));
  }
  return { fp32: Math.min(...t.fp32), fp16: Math.min(...t.fp16), int8: Math.min(...t.int8) };
}

function wasmForwardMs(ir: ModelIR, runs = 3): number {
  const model = TfjsDetector.build(ir, initWeights(ir, { seed: 1 }));
  const s = ir.genome.imageSize;
  const x = tf.randomUniform([1, s, s, 3], 0, 1, 'float32', 1) as tf.Tensor4D;
  const once = () => {
    const t0 = performance.now();
    const outs = model.forward(x, false);
    for (const o of outs) o.dataSync();
    tf.dispose(outs);
    return performance.now() - t0;
  };
  once();
  const times = Array.from({ length: runs }, once);
  x.dispose();
  model.dispose();
  return median(times);
}

/**
 * One SGD step, batch 8: forward in training mode, a stand-in loss (mean of squared raw outputs;
 * the YOLO loss adds no conv gradients), backward, update. Returns ms per step.
 */
function trainStepMs(ir: ModelIR, steps: number, warmup: number): number {
  const model = TfjsDetector.build(ir, initWeights(ir, { seed: 1 }));
  const s = ir.genome.imageSize;
  const x = tf.randomUniform([8, s, s, 3], 0, 1, 'float32', 2) as tf.Tensor4D;
  const opt = tf.train.sgd(1e-4);
  const step = () => {
    const t0 = performance.now();
    const { value, grads } = tf.variableGrads(() => {
      const outs = model.forward(x, true);
      return tf.addN(outs.map((o) => tf.mean(tf.square(o)))) as tf.Scalar;
    }, model.trainableVariables());
    opt.applyGradients(grads);
    model.applyBatchNormUpdates();
    value.dataSync();
    tf.dispose([value, ...Object.values(grads)]);
    return performance.now() - t0;
  };
  for (let i = 0; i < warmup; i++) step();
  const times = Array.from({ length: steps }, step);
  x.dispose();
  opt.dispose();
  model.dispose();
  return median(times);
}

/**
 * The cpu-fallback step takes tens of minutes on a loaded 2-core machine and tfjs cannot be
 * interrupted mid-step, so it runs in a child process that is killed at the limit; a killed run
 * gives a lower bound.
 */
function fallbackStepInChild(limitMs: number): Promise<{ ms: number; timedOut: boolean }> {
  return new Promise((done, fail) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, [...process.execArgv, __filename, '--fallback-step'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (d) => (out += String(d)));
    const timer = setTimeout(() => child.kill('SIGKILL'), limitMs);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (signal === 'SIGKILL') return done({ ms: performance.now() - t0, timedOut: true });
      const ms = Number(/FALLBACK_MS (\S+)/.exec(out)?.[1]);
      if (code !== 0 || !Number.isFinite(ms)) return fail(new Error(`fallback step failed (exit ${code})`));
      done({ ms, timedOut: false });
    });
  });
}

async function fallbackStepMain(): Promise<void> {
  await initBackend('wasm', { log: () => undefined });
  useWasmGradientKernels(false);
  const ms = trainStepMs(buildIR(standardGenome('yolov5n', 80, 320)), 1, 0);
  process.stdout.write(`FALLBACK_MS ${ms}\n`);
}

async function main(): Promise<void> {
  const started = Date.now();
  const load0 = loadavg()[0]!;
  await initBackend('wasm', { log });
  log(`threads ${THREADS}, runs ${RUNS}, load average ${load0.toFixed(2)}`);

  const refStart = await matmulReference();
  log(`MatMul 2048: ${fmt(refStart.ms)} ms, ${fmt(refStart.gflops)} GFLOPS`);

  const rows: ModelRow[] = [];
  for (const name of ['yolov5n', 'yolov5s']) {
    for (const size of [320, 640]) {
      const ir = buildIR(standardGenome(name, 80, size));
      const gflops = modelCost(ir).gflops;
      const t = await onnxTimes(ir);
      const wasm = wasmForwardMs(ir);
      rows.push({ model: name, size, gflops, ...t, wasm });
      log(
        `${name}@${size}: fp32 ${fmt(t.fp32)} fp16 ${fmt(t.fp16)} int8 ${fmt(t.int8)} wasm ${fmt(wasm)} ms`,
      );
    }
  }

  // Measured again after the models; the faster of the two is the reference (the conservative choice
  // for the % of reference, on a machine whose load changes over minutes).
  const refEnd = await matmulReference();
  log(`MatMul 2048 (again): ${fmt(refEnd.ms)} ms, ${fmt(refEnd.gflops)} GFLOPS`);
  const ref = refEnd.gflops > refStart.gflops ? refEnd : refStart;

  const trainIR = buildIR(standardGenome('yolov5n', 80, 320));
  useWasmGradientKernels(true);
  const wasmStep = trainStepMs(trainIR, 2, 1);
  log(`train step wasm kernels: ${fmt(wasmStep)} ms`);
  let fallbackStep = NaN;
  let fallbackNote = 'skipped';
  if (process.env.BENCH_SKIP_FALLBACK !== '1') {
    log(
      `train step with the cpu-kernel fallback (one step, in a child process, limit ${FALLBACK_LIMIT_MIN} min)...`,
    );
    const r = await fallbackStepInChild(FALLBACK_LIMIT_MIN * 60_000);
    fallbackStep = r.ms;
    fallbackNote = r.timedOut ? `> ${fmt(r.ms / 60_000)} min (stopped at the limit)` : fmt(r.ms);
    log(`train step cpu fallback: ${fallbackNote}`);
  }

  const v5s640 = rows.find((r) => r.model === 'yolov5s' && r.size === 640)!;
  const achieved = (r: ModelRow, ms: number) => r.gflops / (ms / 1000);
  const lines = [
    `# Runtime benchmark (\`npm run bench:runtime\`)`,
    '',
    `${new Date().toISOString()} · ${cpus()[0]?.model ?? 'cpu'} · ${cpus().length} cores · onnxruntime-node ${ort.env.versions.node} · ` +
      `${THREADS} intra-op threads · median of ${RUNS} runs (best of 2 interleaved rounds) · load average ${load0.toFixed(2)} at start, ${loadavg()[0]!.toFixed(2)} at end (shared machine)`,
    '',
    `Reference: onnxruntime fp32 MatMul 2048x2048: ${fmt(ref.ms)} ms = **${fmt(ref.gflops)} GFLOPS** ` +
      `(faster of two measurements, before and after the models: ${fmt(refStart.gflops)} and ${fmt(refEnd.gflops)}).`,
    '',
    '| model | img | GFLOPs | ORT fp32 ms | fp32 GFLOPS | % of MatMul | ORT fp16 ms | ORT int8 ms | int8 GFLOPS | int8 speed-up | tfjs-wasm fwd ms |',
    '|---|---|---|---|---|---|---|---|---|---|---|',
    ...rows.map(
      (r) =>
        `| ${r.model} | ${r.size} | ${fmt(r.gflops, 2)} | ${fmt(r.fp32)} | ${fmt(achieved(r, r.fp32))} | ${fmt(
          (100 * achieved(r, r.fp32)) / ref.gflops,
        )}% | ${fmt(r.fp16)} | ${fmt(r.int8)} | ${fmt(achieved(r, r.int8))} | ${fmt(r.fp32 / r.int8, 2)}x | ${fmt(r.wasm)} |`,
    ),
    '',
    '| training step, yolov5n, batch 8, 320 (fwd + bwd + SGD) | ms |',
    '|---|---|',
    `| wasm with the new gradient kernels (median of 2 after 1 warm-up) | ${fmt(wasmStep)} |`,
    `| wasm with the cpu-kernel fallback (1 step) | ${fallbackNote} |`,
    `| speed-up | ${Number.isFinite(fallbackStep) ? `${fallbackNote.startsWith('>') ? '> ' : ''}${fmt(fallbackStep / wasmStep)}x` : '-'} |`,
    '',
    `Targets: yolov5s fp32 @640 reaches ${fmt((100 * achieved(v5s640, v5s640.fp32)) / ref.gflops)}% of the MatMul reference (target >= 30%); ` +
      `wasm training step ${Number.isFinite(fallbackStep) ? `${fallbackNote.startsWith('>') ? 'more than ' : ''}${fmt(fallbackStep / wasmStep)}x` : '(not measured)'} faster than the fallback (target >= 10x).`,
    '',
    'int8 = static QDQ, per-channel int8 weights, uint8 activations, calibrated (min-max) on 2 synthetic images; ' +
      'rows 0 and 24 (Detect) float. fp16 = float16 weights and compute with float32 input/output. ' +
      'The training step uses a stand-in loss (mean squared outputs) so that it times the model, not the YOLO loss. ' +
      `Total bench time ${fmt((Date.now() - started) / 60000)} min.`,
  ];
  const md = lines.join('\n') + '\n';
  process.stdout.write(md);
  const dir = join(__dirname, 'results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'runtime.md'), md);
}

(process.argv.includes('--fallback-step') ? fallbackStepMain() : main()).catch((err) => {
  process.stderr.write(`bench:runtime failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});

/**
 * Times one YOLOv5 training step on TensorFlow.js: forward(x, true), tf.variableGrads of a simple loss
 * (mean square of the raw outputs), an SGD update and the BatchNorm running-statistics update.
 *
 *   node -r @swc-node/register libs/model-tfjs/bench/train-step.ts [--img 320] [--batch 8]
 *     [--depth 0.33] [--width 0.25] [--steps 3] [--kernels wasm|cpu-fallback] [--backend wasm]
 *     [--profile] [--json]
 *
 * --kernels cpu-fallback: the missing wasm gradient kernels run the JavaScript cpu kernels (the
 * situation without this package's kernels); --profile prints where the time goes per kernel.
 */
import * as tf from '@tensorflow/tfjs-core';
import { buildIR, modelCost, parseGenome } from '@detsearch/genome';
import { initBackend, TfjsDetector, useWasmGradientKernels } from '@detsearch/model-tfjs';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
}
const flag = (name: string) => process.argv.includes(`--${name}`);

async function main(): Promise<void> {
  const img = Number(arg('img', '320'));
  const batch = Number(arg('batch', '8'));
  const steps = Number(arg('steps', '3'));
  const kernels = arg('kernels', 'wasm');
  const backend = await initBackend(arg('backend', 'wasm'));
  if (backend.name === 'wasm') useWasmGradientKernels(kernels !== 'cpu-fallback');
  const genome = parseGenome({
    depthMultiple: Number(arg('depth', '0.33')),
    widthMultiple: Number(arg('width', '0.25')),
    imageSize: img,
  });
  const ir = buildIR(genome);
  const model = TfjsDetector.build(ir);
  const x = tf.randomUniform([batch, img, img, 3], 0, 1, 'float32', 1) as tf.Tensor4D;
  const opt = tf.train.sgd(1e-3);
  const loss = () => tf.addN(model.forward(x, true).map((o) => tf.mean(tf.square(o)))) as tf.Scalar;
  const step = () => {
    const { value, grads } = tf.variableGrads(loss, model.trainableVariables());
    opt.applyGradients(grads);
    model.applyBatchNormUpdates();
    value.dataSync();
    tf.dispose([value, ...Object.values(grads)]);
  };
  const forward = () => {
    const outs = model.forward(x, false);
    outs.forEach((o) => o.dataSync());
    tf.dispose(outs);
  };
  forward(); // warm-up (wasm compiles XNNPACK operators on first use)
  const f0 = performance.now();
  const fc0 = process.cpuUsage();
  forward();
  const forwardMs = performance.now() - f0;
  const fc = process.cpuUsage(fc0);
  const times: number[] = [];
  // CPU time of this (single-threaded) process: comparable across runs on a machine shared with others.
  const cpuTimes: number[] = [];
  for (let i = 0; i < steps; i++) {
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    step();
    const c = process.cpuUsage(c0);
    cpuTimes.push((c.user + c.system) / 1000);
    times.push(performance.now() - t0);
  }
  const sorted = [...times].sort((a, b) => a - b);
  const result = {
    backend: backend.description,
    kernels: backend.name === 'wasm' ? kernels : 'native',
    model: `d${genome.depthMultiple} w${genome.widthMultiple}`,
    params: modelCost(ir).params,
    img,
    batch,
    forwardMs: Math.round(forwardMs),
    forwardCpuMs: Math.round((fc.user + fc.system) / 1000),
    stepMs: times.map(Math.round),
    stepCpuMs: cpuTimes.map(Math.round),
    // The first step includes compiling the backward operators; the median of the rest is the steady state.
    steadyStepMs: Math.round(sorted[Math.floor((sorted.length - 1) / 2)]!),
  };
  if (flag('profile')) {
    const info = await tf.profile(step);
    const byKernel = new Map<string, { ms: number; calls: number }>();
    for (const k of info.kernels) {
      const e = byKernel.get(k.name) ?? { ms: 0, calls: 0 };
      e.ms += Number(k.kernelTimeMs) || 0;
      e.calls++;
      byKernel.set(k.name, e);
    }
    const rows = [...byKernel].sort((a, b) => b[1].ms - a[1].ms).slice(0, 25);
    console.error('kernel (nested kernels of the gradient kernels are counted again)        ms   calls');
    for (const [name, e] of rows)
      console.error(`${name.padEnd(60)} ${e.ms.toFixed(0).padStart(8)} ${String(e.calls).padStart(6)}`);
  }
  if (flag('json')) process.stdout.write(JSON.stringify(result) + '\n');
  else console.log(result);
  opt.dispose();
  x.dispose();
  model.dispose();
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});

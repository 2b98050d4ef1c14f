/**
 * @detsearch/model-tfjs: the YOLOv5 IR as a trainable TensorFlow.js model, and backend selection.
 *
 * Usage (a training step; the trainer owns the loss and optimizer):
 *
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { initBackend, currentBackend, TfjsDetector } from '@detsearch/model-tfjs';
 *
 * await initBackend(config.DETSEARCH_BACKEND);  // or 'auto' (default); registers gradients
 * const model = TfjsDetector.build(buildIR(genome));   // weights default to initWeights(ir)
 * const opt = tf.train.sgd(0.01);
 * const { value, grads } = tf.variableGrads(() => loss(model.forward(images, true), targets),
 *                                            model.trainableVariables());
 * opt.applyGradients(grads);
 * model.applyBatchNormUpdates();              // running stats, after the step, outside the tape
 * tf.dispose([value, ...Object.values(grads)]);
 * trial.backend = currentBackend()?.description;
 * const weights = model.exportWeights();      // canonical PyTorch names/layouts for model-onnx
 * model.dispose();
 * ```
 *
 * - `initBackend(preferred = 'auto', { log })`: tries
 *   tfjs-node-gpu, tfjs-node, wasm (SIMD), cpu; an explicit unavailable choice throws a DomainError
 *   (`BACKEND.UNAVAILABLE`, `BACKEND.UNKNOWN`). Call it (and await it) before building a model: it
 *   also registers tfjs' gradients, which tfjs-core's CommonJS build lacks.
 * - `TfjsDetector.forward(x, training)`: x NHWC [B,H,W,3] in 0..1; returns the three raw Detect
 *   outputs NHWC [B,h,w,3*(nc+5)], P3 first (the ONNX export's outputs are the NCHW transposes).
 *   The caller disposes the outputs.
 * - Tensors: use the `@tensorflow/tfjs-core` this package imports. A native backend brings its own
 *   tfjs-core copy, but the engine and kernel registry are process-global, so tensors interoperate.
 * - wasm: `registerWasmGradientKernels()` (done by initBackend) adds Conv2DBackpropFilter and the
 *   depthwise backprop kernels wasm lacks, and replaces its scalar Conv2DBackpropInput;
 *   `useWasmGradientKernels(false)` restores the slow cpu-kernel fallback for benchmarks.
 */
export {
  BACKEND_NAMES,
  currentBackend,
  ensureGradients,
  initBackend,
  type BackendInfo,
  type BackendName,
  type BackendPreference,
  type InitBackendOptions,
} from './backend';
export { TfjsDetector } from './detector';
export {
  WASM_MISSING_GRADIENT_KERNELS,
  registerWasmGradientKernels,
  useWasmGradientKernels,
  wasmGradientKernelMode,
} from './wasm-gradients';

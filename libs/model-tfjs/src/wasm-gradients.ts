import * as tf from '@tensorflow/tfjs-core';
// The benchmark baseline (useWasmGradientKernels(false)) runs kernels of the cpu backend.
import '@tensorflow/tfjs-backend-cpu';

/**
 * Gradient kernels the wasm backend lacks (Conv2DBackpropFilter, DepthwiseConv2dNativeBackpropFilter,
 * DepthwiseConv2dNativeBackpropInput), built from kernels wasm runs natively (XNNPACK conv and matmul,
 * slices, elementwise ops). Each kernel runs ordinary ops inside the engine: nested kernels are not
 * recorded on the gradient tape (the engine turns the tape off while a kernel runs), and a kernel may
 * return a Tensor, which the engine passes through as its output.
 *
 * wasm's own Conv2DBackpropInput is a scalar C++ loop; it is replaced by a conv2d of the (stride-dilated)
 * output gradient with the flipped filter, which runs on XNNPACK.
 */

type Pad = 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
type Rounding = 'floor' | 'round' | 'ceil' | undefined;

interface ConvGradAttrs {
  strides: [number, number] | number;
  pad: Pad;
  dimRoundingMode?: Rounding;
  dataFormat?: 'NHWC' | 'NCHW';
  dilations?: [number, number] | number;
}

function asTensor<T extends tf.Tensor>(info: tf.TensorInfo): T {
  if ((info as tf.Tensor).rank !== undefined) return info as T;
  return tf.engine().makeTensorFromTensorInfo(info) as T;
}

function checkNhwc(kernel: string, attrs: ConvGradAttrs): void {
  if (attrs.dataFormat !== undefined && attrs.dataFormat !== 'NHWC')
    throw new Error(`${kernel} (wasm gradient kernels): only NHWC is supported`);
  const d = attrs.dilations;
  if (d !== undefined && (Array.isArray(d) ? d[0] !== 1 || d[1] !== 1 : d !== 1))
    throw new Error(`${kernel} (wasm gradient kernels): dilations other than 1 are not supported`);
}

/** Zero-pads (positive) or crops (negative) the two spatial axes of an NHWC tensor. */
function padOrCrop(x: tf.Tensor4D, top: number, bottom: number, left: number, right: number): tf.Tensor4D {
  let y = x;
  if (top < 0 || bottom < 0 || left < 0 || right < 0) {
    const [b, h, w, c] = y.shape;
    const t = Math.max(0, -top);
    const l = Math.max(0, -left);
    y = tf.slice(y, [0, t, l, 0], [b, h - t - Math.max(0, -bottom), w - l - Math.max(0, -right), c]);
  }
  const pt = Math.max(0, top);
  const pb = Math.max(0, bottom);
  const pl = Math.max(0, left);
  const pr = Math.max(0, right);
  if (pt || pb || pl || pr)
    y = tf.pad(y, [
      [0, 0],
      [pt, pb],
      [pl, pr],
      [0, 0],
    ]);
  return y;
}

/**
 * Inserts s-1 zeros after every row and column: [B,H,W,C] -> [B,H*s,W*s,C] (trailing zeros kept).
 * Two rank-4 PadV2 calls and free reshapes; wasm's DepthToSpace, Concat and Slice are JS loops.
 */
function dilateSpatial(x: tf.Tensor4D, sh: number, sw: number): tf.Tensor4D {
  if (sh === 1 && sw === 1) return x;
  const [b, h, w, c] = x.shape;
  const cols = tf.pad(tf.reshape(x, [b * h, w, 1, c]), [
    [0, 0],
    [0, 0],
    [0, sw - 1],
    [0, 0],
  ]);
  const rows = tf.pad(tf.reshape(cols, [b, h, 1, w * sw * c]), [
    [0, 0],
    [0, 0],
    [0, sh - 1],
    [0, 0],
  ]);
  return tf.reshape(rows, [b, h * sh, w * sw, c]);
}

/** Pads so that a valid correlation with a k-tap filter reads dy from `start` and yields `outLen`. */
function windowPads(start: number, taps: number, outLen: number, inLen: number): [number, number] {
  const before = -start;
  return [before, outLen + taps - 1 - before - inLen];
}

/**
 * Crops or pads the input so that exactly (out-1)*stride + k rows and columns remain: the rows the
 * forward conv read. Then the filter gradient is a valid correlation of that input with dy.
 */
function usedInput(x: tf.Tensor4D, info: tf.backend_util.Conv2DInfo): tf.Tensor4D {
  const { top, left } = info.padInfo;
  const needH = (info.outHeight - 1) * info.strideHeight + info.filterHeight;
  const needW = (info.outWidth - 1) * info.strideWidth + info.filterWidth;
  return padOrCrop(x, top, needH - x.shape[1] - top, left, needW - x.shape[2] - left);
}

/**
 * dW[i,j,ci,co] = sum over b,y,x of xp[b, s*y+i, s*x+j, ci] * dy[b,y,x,co]: a convolution whose batch
 * is ci, whose channels are b, and whose (dilated by s) filter is dy. One XNNPACK call instead of
 * k*k strided slices and a transposed matmul, which wasm runs as scalar loops.
 */
export function conv2DBackpropFilterImpl(
  x: tf.Tensor4D,
  dy: tf.Tensor4D,
  filterShape: [number, number, number, number],
  attrs: ConvGradAttrs,
): tf.Tensor4D {
  checkNhwc('Conv2DBackpropFilter', attrs);
  const info = tf.backend_util.computeConv2DInfo(
    x.shape,
    filterShape,
    attrs.strides,
    1,
    attrs.pad,
    attrs.dimRoundingMode,
  );
  const { strideHeight: sh, strideWidth: sw } = info;
  return tf.tidy(() => {
    const xT = tf.transpose(usedInput(x, info), [3, 1, 2, 0]) as tf.Tensor4D; // [Ci, Hp, Wp, B]
    const dyT = tf.transpose(dy, [1, 2, 0, 3]) as tf.Tensor4D; // [Ho, Wo, B, Co]
    const r = tf.conv2d(xT, dyT, 1, 'valid', 'NHWC', [sh, sw]); // [Ci, kh, kw, Co]
    return tf.transpose(r, [1, 2, 0, 3]);
  });
}

/**
 * dx = transposed conv of dy. Stride 1: one conv2d of the padded dy with the flipped filter. Stride s:
 * split dx into s*s phases (rows and columns ≡ p mod s); each phase is a stride-1 conv2d of dy with the
 * taps of that phase, so no work is spent on the zeros a dilated dy would hold. The phases are
 * interleaved with one transpose.
 */
export function conv2DBackpropInputImpl(
  dy: tf.Tensor4D,
  filter: tf.Tensor4D,
  inputShape: [number, number, number, number],
  attrs: ConvGradAttrs,
): tf.Tensor4D {
  checkNhwc('Conv2DBackpropInput', attrs);
  const info = tf.backend_util.computeConv2DInfo(
    inputShape,
    filter.shape,
    attrs.strides,
    1,
    attrs.pad,
    attrs.dimRoundingMode,
  );
  const { filterHeight: kh, filterWidth: kw, strideHeight: sh, strideWidth: sw, inHeight, inWidth } = info;
  const { top, left } = info.padInfo;
  const [b, outH, outW] = dy.shape;
  const inC = inputShape[3];
  // The filter is small next to the activations: its taps are gathered (flipped and transposed to
  // [taps, taps, Co, Ci]) in JS from one read, not with wasm's StridedSlice, a generic per-element loop
  // that cost ~20 ms for a 3x3x128x128 filter (a third of a yolov5n training step at 160 px).
  const filterData = filter.dataSync() as Float32Array;
  return tf.tidy((): tf.Tensor4D => {
    // Phase (py, px): taps r + s*m along each axis, flipped, read dy from u + q - (M-1).
    const phaseH = ceilDiv(inHeight, sh);
    const phaseW = ceilDiv(inWidth, sw);
    const axis = (p: number, s: number, k: number, pad: number, outLen: number, phaseLen: number) => {
      const r = (((p + pad) % s) + s) % s;
      const taps = r < k ? ceilDiv(k - r, s) : 0;
      const q = (p + pad - r) / s;
      const idx = Array.from({ length: taps }, (_, m) => r + s * (taps - 1 - m));
      return { idx, pads: windowPads(q - (taps - 1), taps, phaseLen, outLen) };
    };
    const phases: tf.Tensor4D[] = [];
    for (let py = 0; py < sh; py++)
      for (let px = 0; px < sw; px++) {
        const ay = axis(py, sh, kh, top, outH, phaseH);
        const ax = axis(px, sw, kw, left, outW, phaseW);
        if (!ay.idx.length || !ax.idx.length) {
          phases.push(tf.zeros([b, phaseH, phaseW, inC]));
          continue;
        }
        const sub = gatherTaps(filterData, filter.shape, ay.idx, ax.idx);
        const dyp = padOrCrop(dy, ay.pads[0], ay.pads[1], ax.pads[0], ax.pads[1]);
        phases.push(tf.conv2d(dyp, sub, 1, 'valid'));
      }
    if (phases.length === 1) return phases[0]!;
    // Interleave P[py, px, n, v, c] -> out[n, py, v, px, c] with two rank<=4 transposes (wasm's
    // rank-5 transpose is a slow generic loop): [sh, sw, N*W, C] -> [sh, N*W, sw, C], then
    // [sh, N, W*sw*C] -> [N, sh, W*sw*C].
    const p4 = tf.reshape(tf.stack(phases), [sh, sw, b * phaseH * phaseW, inC]);
    const cols = tf.reshape(tf.transpose(p4, [0, 2, 1, 3]), [sh, b * phaseH, phaseW * sw * inC]);
    const woven = tf.reshape(tf.transpose(cols, [1, 0, 2]), [b, phaseH * sh, phaseW * sw, inC]);
    if (phaseH * sh === inHeight && phaseW * sw === inWidth) return woven as tf.Tensor4D;
    return tf.slice(woven as tf.Tensor4D, [0, 0, 0, 0], [b, inHeight, inWidth, inC]);
  });
}

function ceilDiv(a: number, b: number): number {
  return Math.floor((a + b - 1) / b);
}

/**
 * The taps at the listed rows and columns of an [kh, kw, Ci, Co] filter, transposed to
 * [rows, cols, Co, Ci] (the filter of the transposed convolution).
 */
export function gatherTaps(
  data: Float32Array,
  shape: readonly [number, number, number, number],
  rows: readonly number[],
  cols: readonly number[],
): tf.Tensor4D {
  const [, kw, inC, outC] = shape;
  const out = new Float32Array(rows.length * cols.length * outC * inC);
  let o = 0;
  for (const r of rows)
    for (const c of cols) {
      const base = (r * kw + c) * inC * outC;
      for (let co = 0; co < outC; co++)
        for (let ci = 0; ci < inC; ci++) out[o++] = data[base + ci * outC + co]!;
    }
  return tf.tensor4d(out, [rows.length, cols.length, outC, inC]);
}

/** As the dense case, with b folded into the channels so that each channel stays on its own. */
export function depthwiseBackpropFilterImpl(
  x: tf.Tensor4D,
  dy: tf.Tensor4D,
  filterShape: [number, number, number, number],
  attrs: ConvGradAttrs,
): tf.Tensor4D {
  checkNhwc('DepthwiseConv2dNativeBackpropFilter', attrs);
  const info = tf.backend_util.computeConv2DInfo(
    x.shape,
    filterShape,
    attrs.strides,
    1,
    attrs.pad,
    attrs.dimRoundingMode,
    true,
  );
  const { filterHeight: kh, filterWidth: kw, strideHeight: sh, strideWidth: sw, outHeight, outWidth } = info;
  const [, , inC, mult] = filterShape;
  const b = x.shape[0];
  return tf.tidy(() => {
    const xp = usedInput(x, info);
    const xT = tf.reshape(tf.transpose(xp, [1, 2, 0, 3]), [1, xp.shape[1], xp.shape[2], b * inC]);
    const dyT = tf.reshape(tf.transpose(dy, [1, 2, 0, 3]), [outHeight, outWidth, b * inC, mult]);
    const r = tf.depthwiseConv2d(xT as tf.Tensor4D, dyT as tf.Tensor4D, 1, 'valid', 'NHWC', [sh, sw]);
    return tf.reshape(tf.sum(tf.reshape(r, [kh, kw, b, inC * mult]), 2), filterShape);
  });
}

export function depthwiseBackpropInputImpl(
  dy: tf.Tensor4D,
  filter: tf.Tensor4D,
  inputShape: [number, number, number, number],
  attrs: ConvGradAttrs,
): tf.Tensor4D {
  checkNhwc('DepthwiseConv2dNativeBackpropInput', attrs);
  const info = tf.backend_util.computeConv2DInfo(
    inputShape,
    filter.shape,
    attrs.strides,
    1,
    attrs.pad,
    attrs.dimRoundingMode,
    true,
  );
  const { filterHeight: kh, filterWidth: kw, strideHeight: sh, strideWidth: sw, inHeight, inWidth } = info;
  const { top, left } = info.padInfo;
  const [, , inC, mult] = filter.shape;
  const [b] = inputShape;
  return tf.tidy(() => {
    const flipped = tf.reverse(filter, [0, 1]);
    const dyd = dilateSpatial(dy, sh, sw);
    const padTop = kh - 1 - top;
    const padLeft = kw - 1 - left;
    const padBottom = inHeight + kh - 1 - padTop - dyd.shape[1];
    const padRight = inWidth + kw - 1 - padLeft - dyd.shape[2];
    const dyp = padOrCrop(dyd, padTop, padBottom, padLeft, padRight);
    // Each of the inC*mult output channels convolves on its own; the mult of one input channel add up.
    const flat = tf.reshape(flipped, [kh, kw, inC * mult, 1]) as tf.Tensor4D;
    const dx = tf.depthwiseConv2d(dyp, flat, 1, 'valid');
    if (mult === 1) return dx;
    return tf.sum(tf.reshape(dx, [b, inHeight, inWidth, inC, mult]), 4) as tf.Tensor4D;
  });
}

type KernelImpl = (args: { inputs: tf.NamedTensorInfoMap; attrs?: tf.NamedAttrMap }) => tf.Tensor;

const WASM_KERNELS: Record<string, KernelImpl> = {
  Conv2DBackpropFilter: ({ inputs, attrs }) => {
    const a = attrs as unknown as ConvGradAttrs & { filterShape: [number, number, number, number] };
    return conv2DBackpropFilterImpl(asTensor(inputs.x!), asTensor(inputs.dy!), a.filterShape, a);
  },
  Conv2DBackpropInput: ({ inputs, attrs }) => {
    const a = attrs as unknown as ConvGradAttrs & { inputShape: [number, number, number, number] };
    return conv2DBackpropInputImpl(asTensor(inputs.dy!), asTensor(inputs.filter!), a.inputShape, a);
  },
  DepthwiseConv2dNativeBackpropFilter: ({ inputs, attrs }) => {
    const a = attrs as unknown as ConvGradAttrs & { filterShape: [number, number, number, number] };
    return depthwiseBackpropFilterImpl(asTensor(inputs.x!), asTensor(inputs.dy!), a.filterShape, a);
  },
  DepthwiseConv2dNativeBackpropInput: ({ inputs, attrs }) => {
    const a = attrs as unknown as ConvGradAttrs & { inputShape: [number, number, number, number] };
    return depthwiseBackpropInputImpl(asTensor(inputs.dy!), asTensor(inputs.filter!), a.inputShape, a);
  },
};

/** Kernel names wasm has no implementation of at all; the rest (Conv2DBackpropInput) are replaced. */
export const WASM_MISSING_GRADIENT_KERNELS = [
  'Conv2DBackpropFilter',
  'DepthwiseConv2dNativeBackpropFilter',
  'DepthwiseConv2dNativeBackpropInput',
] as const;

/** wasm's own configs of the kernels replaced here, saved so `useWasmGradientKernels(false)` restores them. */
const originals = new Map<string, tf.KernelConfig>();
const ours = new Set<tf.KernelFunc>();
let mode: 'none' | 'wasm' | 'cpu-fallback' = 'none';

function setKernel(kernelName: string, kernelFunc: tf.KernelFunc): void {
  const existing = tf.getKernel(kernelName, 'wasm');
  if (existing) {
    if (!ours.has(existing.kernelFunc)) originals.set(kernelName, existing);
    tf.unregisterKernel(kernelName, 'wasm');
  }
  ours.add(kernelFunc);
  tf.registerKernel({ kernelName, backendName: 'wasm', kernelFunc });
}

/**
 * The slow path wasm users get without these kernels: copy the inputs to the JavaScript cpu backend,
 * run its kernel there, and copy the result back. Kept for benchmarks only.
 */
function cpuFallbackKernel(kernelName: string): tf.KernelFunc {
  return ({ inputs, attrs }) => {
    const cpuKernel = tf.getKernel(kernelName, 'cpu');
    const cpu = tf.findBackend('cpu');
    if (!cpuKernel || !cpu) throw new Error(`cpu fallback for ${kernelName}: cpu backend not registered`);
    const cpuInputs: tf.NamedTensorInfoMap = {};
    const moved: tf.DataId[] = [];
    for (const [name, info] of Object.entries(inputs) as [string, tf.TensorInfo][]) {
      const values = tf.engine().readSync(info.dataId) as Float32Array;
      const dataId = cpu.write(values, info.shape, info.dtype);
      moved.push(dataId);
      cpuInputs[name] = { dataId, shape: info.shape, dtype: info.dtype };
    }
    const out = cpuKernel.kernelFunc({ inputs: cpuInputs, attrs, backend: cpu }) as tf.TensorInfo;
    const values = cpu.readSync(out.dataId) as Float32Array;
    cpu.disposeData(out.dataId);
    for (const id of moved) cpu.disposeData(id);
    return tf.tensor(values, out.shape, out.dtype);
  };
}

/**
 * Registers the wasm implementations of the missing gradient kernels (and the faster
 * Conv2DBackpropInput). Idempotent; safe before the wasm backend is initialized.
 */
export function registerWasmGradientKernels(): void {
  if (mode === 'wasm') return;
  for (const [name, impl] of Object.entries(WASM_KERNELS)) setKernel(name, impl as unknown as tf.KernelFunc);
  mode = 'wasm';
}

/**
 * true: the kernels of `registerWasmGradientKernels`. false: the baseline without them, for benchmarks:
 * the missing kernels delegate to the JavaScript cpu kernels and Conv2DBackpropInput is wasm's own.
 */
export function useWasmGradientKernels(enabled: boolean): void {
  if (enabled) {
    registerWasmGradientKernels();
    return;
  }
  if (mode === 'cpu-fallback') return;
  for (const name of WASM_MISSING_GRADIENT_KERNELS) setKernel(name, cpuFallbackKernel(name));
  for (const [name, config] of originals) {
    if (tf.getKernel(name, 'wasm')) tf.unregisterKernel(name, 'wasm');
    tf.registerKernel(config);
    // A kernel registered after the backend started was never set up (wasm binds its C++ entry there).
    const backend = tf.findBackend('wasm');
    if (backend && config.setupFunc) config.setupFunc(backend);
  }
  originals.clear();
  mode = 'cpu-fallback';
}

/** Which gradient kernels wasm currently uses. */
export function wasmGradientKernelMode(): 'none' | 'wasm' | 'cpu-fallback' {
  return mode;
}

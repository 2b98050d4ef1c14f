import * as tf from '@tensorflow/tfjs-core';
import { fakeQuantUint8, fakeQuantWeightsInt8, type FakeQuantConfig } from './fake-quant';
import {
  initWeights,
  parameterSpecs,
  type ActivationOp,
  type BatchNormOp,
  type ConvOp,
  type DetectOp,
  type IrOp,
  type ModelIR,
  type WeightMap,
} from '@detsearch/genome';

interface ConvParams {
  kind: 'conv' | 'depthwise';
  /** HWIO, or [kh, kw, C, 1] for depthwise. */
  weight: tf.Variable;
  bias?: tf.Variable;
}

interface BatchNormParams {
  gamma: tf.Variable;
  beta: tf.Variable;
  runningMean: tf.Variable;
  runningVar: tf.Variable;
}

/** Batch statistics of one BatchNorm from the last training forward, applied later. */
interface PendingStats {
  mean: tf.Tensor1D;
  variance: tf.Tensor1D;
  /** Elements per channel (B*H*W), for the unbiased running variance. */
  count: number;
}

let nextDetectorId = 0;

/**
 * A YOLOv5 detector for TensorFlow.js, built by walking the IR's primitive ops (NHWC layout).
 *
 * Weights live in tf.Variables: conv filters as HWIO (depthwise [kh, kw, C, 1]), BatchNorm gamma/beta
 * (trainable) and running mean/var (not trainable), Detect weight and bias. Import and export use the
 * canonical PyTorch state_dict names and layouts (`WeightMap`).
 *
 * BatchNorm follows PyTorch: eval mode uses the running statistics; training mode normalizes with
 * the batch statistics (biased variance) and records them, and `applyBatchNormUpdates()` folds them
 * into the running statistics (momentum from the IR, 0.03; unbiased variance). Doing that as a
 * separate call keeps state changes out of `tf.variableGrads`/`optimizer.minimize` tapes.
 */
export class TfjsDetector {
  private readonly convs = new Map<string, ConvParams>();
  private readonly bns = new Map<string, BatchNormParams>();
  private readonly pending = new Map<string, PendingStats>();
  /** For each tensor, the index of the last op that reads it: inference frees tensors after it. */
  private readonly lastUse = new Map<string, number>();
  private readonly prefix: string;
  private disposed = false;
  private fakeQuant: FakeQuantConfig | undefined;
  private readonly opByName: Map<string, IrOp>;

  private constructor(readonly ir: ModelIR) {
    this.prefix = `detector${nextDetectorId++}/`;
    this.opByName = new Map(ir.ops.map((op) => [op.name, op]));
    ir.ops.forEach((op, i) => op.inputs.forEach((t) => this.lastUse.set(t, i)));
  }

  /** Builds the model with the given weights (canonical layout) or `initWeights(ir)`. */
  static build(ir: ModelIR, weights: WeightMap = initWeights(ir)): TfjsDetector {
    const d = new TfjsDetector(ir);
    try {
      // tidy frees the initial tensors; variables survive it.
      tf.tidy(() => d.createVariables(weights));
    } catch (e) {
      d.dispose();
      throw e;
    }
    return d;
  }

  private createVariables(weights: WeightMap): void {
    const get = (name: string, size: number): Float32Array => {
      const w = weights.get(name);
      if (!w) throw new Error(`TfjsDetector: weight ${name} missing`);
      if (w.length !== size)
        throw new Error(`TfjsDetector: weight ${name} has ${w.length} values, expected ${size}`);
      return w;
    };
    const variable = (name: string, t: tf.Tensor, trainable = true) =>
      tf.variable(t, trainable, this.prefix + name);
    for (const op of this.ir.ops) {
      if (op.kind === 'conv' || op.kind === 'detect') {
        const { inC, outC, k, groups } = convGeometry(op);
        const depthwise = groups !== 1;
        if (depthwise && !(groups === inC && outC === inC))
          throw new Error(`TfjsDetector: ${op.name}: grouped convs other than depthwise are not supported`);
        const data = get(`${op.name}.weight`, (outC * inC * k * k) / groups);
        const torch = tf.tensor4d(data, [outC, inC / groups, k, k]);
        const weight = variable(
          `${op.name}.weight`,
          tf.transpose(torch, depthwise ? [2, 3, 0, 1] : [2, 3, 1, 0]),
        );
        const hasBias = op.kind === 'detect' || op.bias;
        const bias = hasBias
          ? variable(`${op.name}.bias`, tf.tensor1d(get(`${op.name}.bias`, outC)))
          : undefined;
        this.convs.set(op.name, { kind: depthwise ? 'depthwise' : 'conv', weight, bias });
      } else if (op.kind === 'batchnorm') {
        const c = op.channels;
        this.bns.set(op.name, {
          gamma: variable(`${op.name}.weight`, tf.tensor1d(get(`${op.name}.weight`, c))),
          beta: variable(`${op.name}.bias`, tf.tensor1d(get(`${op.name}.bias`, c))),
          runningMean: variable(
            `${op.name}.running_mean`,
            tf.tensor1d(get(`${op.name}.running_mean`, c)),
            false,
          ),
          runningVar: variable(
            `${op.name}.running_var`,
            tf.tensor1d(get(`${op.name}.running_var`, c)),
            false,
          ),
        });
      }
    }
  }

  /**
   * Runs the model. `x`: NHWC float [B, H, W, 3], values 0..1, H and W multiples of 32.
   * Returns the three raw Detect outputs, P3 (stride 8) first, each NHWC [B, h, w, 3*(nc+5)].
   * In training mode BatchNorm uses batch statistics and records them for `applyBatchNormUpdates`.
   * The caller owns (and disposes) the outputs; nothing else is left behind.
   */
  forward(
    x: tf.Tensor4D,
    training = false,
    /** Sees every intermediate tensor by IR name (inside the forward's tidy: copy what you keep). */
    onTensor?: (name: string, t: tf.Tensor4D) => void,
  ): tf.Tensor4D[] {
    this.assertLive();
    if (x.rank !== 4 || x.shape[3] !== 3)
      throw new Error(`TfjsDetector: expected NHWC [B,H,W,3], got [${x.shape}]`);
    const stats = new Map<string, PendingStats>();
    const outputs = tf.tidy(() => {
      const values = new Map<string, tf.Tensor4D>([['images', x]]);
      const keep = new Set(this.ir.outputs);
      this.ir.ops.forEach((op, i) => {
        const inputs = op.inputs.map((name) => {
          const t = values.get(name);
          if (!t) throw new Error(`TfjsDetector: tensor ${name} not computed before ${op.name}`);
          return t;
        });
        const y = this.runOp(op, inputs, training, stats);
        onTensor?.(op.name, y);
        values.set(op.name, y);
        // Free what no later op reads (the tape, when recording, holds its own references).
        for (const name of op.inputs) {
          if (this.lastUse.get(name) === i && name !== 'images' && !keep.has(name)) {
            values.get(name)!.dispose();
            values.delete(name);
          }
        }
      });
      return this.ir.outputs.map((name) => values.get(name)!);
    });
    if (training) {
      for (const p of this.pending.values()) tf.dispose([p.mean, p.variance]);
      this.pending.clear();
      for (const [name, s] of stats) this.pending.set(name, s);
    }
    return outputs;
  }

  /**
   * Quantization-aware training: from now on the forward pass rounds weights and activations of
   * every row not in `floatLayers` to the int8 export's grid (straight-through gradients). `undefined`
   * turns it off.
   */
  setFakeQuant(config: FakeQuantConfig | undefined): void {
    this.fakeQuant = config;
  }

  private runOp(
    op: IrOp,
    inputs: tf.Tensor4D[],
    training: boolean,
    stats: Map<string, PendingStats>,
  ): tf.Tensor4D {
    const y = this.runFloatOp(op, inputs, training, stats);
    const fq = this.fakeQuant;
    if (!fq || fq.floatLayers.has(op.layer)) return y;
    const range = fq.ranges.get(this.exportName(op.name));
    return range && op.kind !== 'conv' ? (fakeQuantUint8(y, range.min, range.max) as tf.Tensor4D) : y;
  }

  /** The export folds BatchNorm into its conv: a BN output is known by the conv's name there. */
  private exportName(tensor: string): string {
    const op = this.opByName.get(tensor);
    return op?.kind === 'batchnorm' ? op.inputs[0]! : tensor;
  }

  private runFloatOp(
    op: IrOp,
    inputs: tf.Tensor4D[],
    training: boolean,
    stats: Map<string, PendingStats>,
  ): tf.Tensor4D {
    const [x] = inputs as [tf.Tensor4D];
    switch (op.kind) {
      case 'conv':
        return this.conv(op, x);
      case 'detect':
        return this.conv(op, x);
      case 'batchnorm':
        return this.batchNorm(op, x, training, stats);
      case 'activation':
        return this.fakeQuant && !this.fakeQuant.floatLayers.has(op.layer)
          ? fakeQuantActivation(op, x)
          : activation(op, x);
      case 'add':
        return tf.add(inputs[0]!, inputs[1]!);
      case 'concat':
        return tf.concat(inputs, 3);
      case 'maxpool':
        return tf.maxPool(
          x,
          op.kernel,
          op.stride,
          op.stride === 1 && op.padding * 2 + 1 === op.kernel ? 'same' : op.padding,
        );
      case 'resize':
        return tf.image.resizeNearestNeighbor(x, [x.shape[1] * op.scale, x.shape[2] * op.scale]);
    }
  }

  private conv(op: ConvOp | DetectOp, x: tf.Tensor4D): tf.Tensor4D {
    const p = this.convs.get(op.name)!;
    const stride = op.kind === 'conv' ? op.stride : 1;
    // A numeric pad is PyTorch's symmetric padding (TF 'same' pads stride-2 convs bottom/right only).
    const pad = op.kind === 'conv' ? op.padding : 0;
    const fq = this.fakeQuant;
    const quantized = fq !== undefined && !fq.floatLayers.has(op.layer);
    const weight = quantized
      ? fakeQuantWeightsInt8(p.weight as tf.Tensor4D, fq.perChannel, p.kind === 'depthwise')
      : (p.weight as tf.Tensor4D);
    // A quantized conv reads its input on the uint8 grid even when a float row produced it.
    const inputRange = quantized ? fq.ranges.get(this.exportName(op.inputs[0]!)) : undefined;
    if (inputRange) x = fakeQuantUint8(x, inputRange.min, inputRange.max) as tf.Tensor4D;
    const y =
      p.kind === 'depthwise' ? tf.depthwiseConv2d(x, weight, stride, pad) : tf.conv2d(x, weight, stride, pad);
    return p.bias ? tf.add(y, p.bias) : y;
  }

  private batchNorm(
    op: BatchNormOp,
    x: tf.Tensor4D,
    training: boolean,
    stats: Map<string, PendingStats>,
  ): tf.Tensor4D {
    const p = this.bns.get(op.name)!;
    if (!training)
      return tf.batchNorm4d(
        x,
        p.runningMean as tf.Tensor1D,
        p.runningVar as tf.Tensor1D,
        p.beta as tf.Tensor1D,
        p.gamma as tf.Tensor1D,
        op.eps,
      );
    const { y, mean, variance } = batchNormTraining(x, p.gamma as tf.Tensor1D, p.beta as tf.Tensor1D, op.eps);
    stats.set(op.name, { mean, variance, count: x.shape[0] * x.shape[1] * x.shape[2] });
    return y;
  }

  /**
   * Folds the batch statistics of the last training forward into the running statistics
   * (running = (1 - momentum) * running + momentum * batch; variance unbiased). Call it after the
   * optimizer step, outside any gradient tape. No-op when nothing is pending.
   */
  applyBatchNormUpdates(): void {
    this.assertLive();
    tf.tidy(() => {
      for (const [name, s] of this.pending) {
        const op = this.ir.ops.find((o) => o.name === name) as BatchNormOp;
        const p = this.bns.get(name)!;
        const m = op.momentum;
        const unbiased = s.count > 1 ? s.count / (s.count - 1) : 1;
        p.runningMean.assign(tf.add(tf.mul(p.runningMean, 1 - m), tf.mul(s.mean, m)));
        p.runningVar.assign(tf.add(tf.mul(p.runningVar, 1 - m), tf.mul(s.variance, m * unbiased)));
      }
    });
    this.discardBatchNormUpdates();
  }

  /** Drops the recorded batch statistics without applying them. */
  discardBatchNormUpdates(): void {
    for (const p of this.pending.values()) tf.dispose([p.mean, p.variance]);
    this.pending.clear();
  }

  /** Everything an optimizer should update: conv/Detect weights and biases, BatchNorm gamma and beta. */
  trainableVariables(): tf.Variable[] {
    this.assertLive();
    const vars: tf.Variable[] = [];
    for (const c of this.convs.values()) vars.push(c.weight, ...(c.bias ? [c.bias] : []));
    for (const b of this.bns.values()) vars.push(b.gamma, b.beta);
    return vars;
  }

  /** Trainable parameters; equals `modelCost(ir).params`. */
  paramCount(): number {
    return this.trainableVariables().reduce((s, v) => s + v.size, 0);
  }

  /** All weights and BatchNorm buffers in the canonical PyTorch names and layouts. */
  exportWeights(): WeightMap {
    this.assertLive();
    const out: WeightMap = new Map();
    for (const spec of parameterSpecs(this.ir)) {
      const [opName, param] = [spec.op, spec.name.slice(spec.op.length + 1)];
      const conv = this.convs.get(opName);
      let t: tf.Tensor;
      if (conv) {
        if (param === 'bias') t = conv.bias!;
        else {
          const perm = conv.kind === 'depthwise' ? [2, 3, 0, 1] : [3, 2, 0, 1];
          const torch = tf.transpose(conv.weight, perm);
          out.set(spec.name, torch.dataSync() as Float32Array);
          torch.dispose();
          continue;
        }
      } else {
        const bn = this.bns.get(opName)!;
        t = { weight: bn.gamma, bias: bn.beta, running_mean: bn.runningMean, running_var: bn.runningVar }[
          param as 'weight' | 'bias' | 'running_mean' | 'running_var'
        ];
      }
      out.set(spec.name, Float32Array.from(t.dataSync() as Float32Array));
    }
    return out;
  }

  /** Frees every variable and pending statistic. The detector is unusable afterwards. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.discardBatchNormUpdates();
    for (const c of this.convs.values()) tf.dispose([c.weight, ...(c.bias ? [c.bias] : [])]);
    for (const b of this.bns.values()) tf.dispose([b.gamma, b.beta, b.runningMean, b.runningVar]);
    this.convs.clear();
    this.bns.clear();
  }

  private assertLive(): void {
    if (this.disposed) throw new Error('TfjsDetector: used after dispose()');
  }
}

/**
 * Training-mode BatchNorm over the N*H*W positions of each channel (biased batch variance), with the
 * analytic backward pass: autodiff through moments costs about twice the full-size passes (broadcast
 * ones, separate mean and variance chains), and BatchNorm is most of the elementwise work of a step.
 * Returns the batch mean and variance as kept tensors (the caller disposes them).
 */
export function batchNormTraining(
  x: tf.Tensor4D,
  gamma: tf.Tensor1D,
  beta: tf.Tensor1D,
  eps: number,
): { y: tf.Tensor4D; mean: tf.Tensor1D; variance: tf.Tensor1D } {
  const n = x.shape[0] * x.shape[1] * x.shape[2];
  const axes = [0, 1, 2];
  let mean: tf.Tensor1D | undefined;
  let variance: tf.Tensor1D | undefined;
  const bn = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [xs, g, b] = args as [tf.Tensor4D, tf.Tensor1D, tf.Tensor1D];
    const save = args[3] as tf.GradSaveFunc;
    const mu = tf.mean(xs, axes);
    const centered = tf.sub(xs, mu);
    const v = tf.mean(tf.square(centered), axes);
    const invStd = tf.rsqrt(tf.add(v, eps));
    const scale = tf.mul(g, invStd);
    mean = tf.keep(tf.clone(mu)) as tf.Tensor1D;
    variance = tf.keep(tf.clone(v)) as tf.Tensor1D;
    save([centered, invStd, scale]);
    return {
      value: tf.add(tf.mul(centered, scale), b),
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
        const d = dy as tf.Tensor4D;
        const [c, inv, sc] = saved as [tf.Tensor4D, tf.Tensor1D, tf.Tensor1D];
        const dBeta = tf.sum(d, axes);
        const dyCentered = tf.sum(tf.mul(d, c), axes);
        const dGamma = tf.mul(dyCentered, inv);
        // dx = scale * (dy - dBeta/n - xhat * dGamma/n), xhat = centered * invStd
        const k1 = tf.neg(tf.div(tf.mul(tf.mul(sc, inv), dGamma), n));
        const k0 = tf.neg(tf.div(tf.mul(sc, dBeta), n));
        const dx = tf.add(tf.add(tf.mul(d, sc), tf.mul(c, k1)), k0);
        return [dx, dGamma, dBeta];
      },
    };
  });
  const y = bn(x, gamma, beta) as tf.Tensor4D;
  return { y, mean: mean!, variance: variance! };
}

function convGeometry(op: ConvOp | DetectOp): { inC: number; outC: number; k: number; groups: number } {
  return op.kind === 'conv'
    ? { inC: op.inChannels, outC: op.outChannels, k: op.kernel, groups: op.groups }
    : { inC: op.inChannels, outC: op.outChannels, k: 1, groups: 1 };
}

function activation(op: ActivationOp, x: tf.Tensor4D): tf.Tensor4D {
  switch (op.fn) {
    case 'silu':
      return tf.mul(x, tf.sigmoid(x));
    case 'relu':
      return tf.relu(x);
    case 'hardswish':
      return tf.mul(x, tf.div(tf.relu6(tf.add(x, 3)), 6));
    case 'leakyrelu':
      return tf.leakyRelu(x, 0.1);
  }
}

/**
 * The activation as the int8 export computes it inside the function: SiLU's sigmoid on the uint8
 * grid of [0, 1], hardswish's gate relu6(x + 3) on that of [0, 6] (the output is rounded by runOp).
 */
function fakeQuantActivation(op: ActivationOp, x: tf.Tensor4D): tf.Tensor4D {
  switch (op.fn) {
    case 'silu':
      return tf.mul(x, fakeQuantUint8(tf.sigmoid(x), 0, 1));
    case 'hardswish':
      return tf.mul(x, tf.div(fakeQuantUint8(tf.relu6(tf.add(x, 3)), 0, 6), 6));
    default:
      return activation(op, x);
  }
}

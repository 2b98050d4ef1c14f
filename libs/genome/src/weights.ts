import seedrandom from 'seedrandom';
import type { ModelIR } from './ir';

/**
 * The canonical weight format shared by both model builders: PyTorch state_dict names and
 * layouts (`model.2.cv1.conv.weight` as [out, in/groups, kh, kw]; BatchNorm `weight`, `bias`,
 * `running_mean`, `running_var`; Detect `model.24.m.<level>.weight|bias`). The tfjs builder
 * converts to HWIO internally; the ONNX exporter folds BatchNorm from these.
 */
export type WeightMap = Map<string, Float32Array>;

export interface ParameterSpec {
  name: string;
  shape: number[];
  /** false for BatchNorm running statistics (buffers, not trained). */
  trainable: boolean;
  op: string;
}

export function parameterSpecs(ir: ModelIR): ParameterSpec[] {
  const specs: ParameterSpec[] = [];
  for (const op of ir.ops) {
    if (op.kind === 'conv') {
      specs.push({
        name: `${op.name}.weight`,
        shape: [op.outChannels, op.inChannels / op.groups, op.kernel, op.kernel],
        trainable: true,
        op: op.name,
      });
      if (op.bias)
        specs.push({ name: `${op.name}.bias`, shape: [op.outChannels], trainable: true, op: op.name });
    } else if (op.kind === 'detect') {
      specs.push({
        name: `${op.name}.weight`,
        shape: [op.outChannels, op.inChannels, 1, 1],
        trainable: true,
        op: op.name,
      });
      specs.push({ name: `${op.name}.bias`, shape: [op.outChannels], trainable: true, op: op.name });
    } else if (op.kind === 'batchnorm') {
      for (const [p, trainable] of [
        ['weight', true],
        ['bias', true],
        ['running_mean', false],
        ['running_var', false],
      ] as const) {
        specs.push({ name: `${op.name}.${p}`, shape: [op.channels], trainable, op: op.name });
      }
    }
  }
  return specs;
}

export interface InitOptions {
  seed?: string | number;
  /**
   * Random BatchNorm statistics and affine parameters instead of the identity: for parity tests,
   * where an identity BN would hide layout bugs.
   */
  randomizeBatchNorm?: boolean;
}

/**
 * Seeded initialization: PyTorch's default conv init (uniform with bound 1/sqrt(fan_in)), identity
 * BatchNorm, and Ultralytics' Detect bias priors (objectness ~ 8 objects per 640 image, classes 0.6/nc).
 */
export function initWeights(ir: ModelIR, options: InitOptions = {}): WeightMap {
  const rng = seedrandom(String(options.seed ?? 0));
  const uniform = (bound: number) => (rng() * 2 - 1) * bound;
  const weights: WeightMap = new Map();
  for (const spec of parameterSpecs(ir)) {
    const size = spec.shape.reduce((a, b) => a * b, 1);
    const data = new Float32Array(size);
    const [, fanInPerGroup = 1, kh = 1, kw = 1] = spec.shape;
    const fanIn = fanInPerGroup * kh * kw;
    const param = spec.name.slice(spec.op.length + 1);
    if (param === 'weight' && spec.shape.length === 4) {
      for (let i = 0; i < size; i++) data[i] = uniform(1 / Math.sqrt(fanIn));
    } else if (spec.shape.length === 1 && spec.name.includes('.bn.')) {
      for (let i = 0; i < size; i++) {
        if (param === 'weight') data[i] = options.randomizeBatchNorm ? 0.5 + rng() : 1;
        else if (param === 'bias') data[i] = options.randomizeBatchNorm ? uniform(0.2) : 0;
        else if (param === 'running_mean') data[i] = options.randomizeBatchNorm ? uniform(0.2) : 0;
        else data[i] = options.randomizeBatchNorm ? 0.5 + rng() : 1;
      }
    } else if (param === 'bias') {
      const op = ir.ops.find((o) => o.name === spec.op);
      if (op?.kind === 'detect') {
        const no = op.numClasses + 5;
        const cells = (640 / op.stride) ** 2;
        for (let a = 0; a < op.anchors.length; a++) {
          for (let j = 0; j < no; j++) {
            const prior = j === 4 ? Math.log(8 / cells) : j >= 5 ? Math.log(0.6 / (op.numClasses - 0.99)) : 0;
            data[a * no + j] = uniform(1 / Math.sqrt(fanIn)) + prior;
          }
        }
      } else {
        for (let i = 0; i < size; i++) data[i] = uniform(1 / Math.sqrt(fanIn));
      }
    }
    weights.set(spec.name, data);
  }
  return weights;
}

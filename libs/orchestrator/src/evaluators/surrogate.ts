import seedrandom from 'seedrandom';
import {
  buildIR,
  genomeKey,
  modelCost,
  type Activation,
  type Genome,
  type Quantization,
} from '@detsearch/genome';
import {
  getHardwareProfile,
  predictLatency,
  predictedProvenance,
  type HardwareProfile,
} from '@detsearch/latency';
import type {
  EpochReport,
  EvaluatorDefinition,
  EvaluationContext,
  EvaluationRequest,
  TrialEvaluator,
  TrialMetrics,
} from '../types';

export const SURROGATE_NOTE =
  'SURROGATE EVALUATOR: mAP is an analytic estimate (from parameters, image size, separable layers, activation ' +
  'and precision, with seeded noise), not a trained model. Latency is the roofline prediction on the hardware profile.';

/*
 * mAP@0.5:0.95 at convergence as a function of parameters (millions): a power law fitted to
 * Ultralytics' published COCO results for yolov5n/s/m/l/x at 640 px (28.0, 37.4, 45.4, 49.0, 50.7;
 * fit error < 0.01). Other factors are rough relative penalties in line with common reports.
 */
const CAPACITY = { ceiling: 0.69, scale: 0.474, exponent: 0.22 };
const ACTIVATION_FACTOR: Record<Activation, number> = {
  silu: 1,
  hardswish: 0.99,
  leakyrelu: 0.975,
  relu: 0.97,
};

function quantizationFactor(q: Quantization): number {
  if (q.precision === 'fp32') return 1;
  if (q.precision === 'fp16') return 0.999;
  const perChannel = q.granularity !== 'per-tensor';
  if (q.scheme === 'dynamic') return perChannel ? 0.96 : 0.95;
  return perChannel ? 0.985 : 0.97;
}

export interface SurrogateEstimate {
  /** mAP@0.5:0.95 after full convergence, before quantization. */
  fp32Map50_95: number;
  /** After quantization. */
  map50_95: number;
  /** Epochs for the learning curve to reach 1 - 1/e of its final value. */
  tau: number;
}

/** The deterministic part of the surrogate (no noise, infinite training). */
export function surrogateEstimate(
  genome: Genome,
  params: number,
  trainImageSize?: number,
): SurrogateEstimate {
  const pm = Math.max(params / 1e6, 0.01);
  let m = CAPACITY.ceiling - CAPACITY.scale * pm ** -CAPACITY.exponent;
  m *= Math.min(genome.imageSize / 640, 1.5) ** 0.45;
  m *= 0.993 ** genome.separable.length;
  m *= ACTIVATION_FACTOR[genome.activation];
  if (trainImageSize && trainImageSize < genome.imageSize) m *= (trainImageSize / genome.imageSize) ** 0.1;
  const fp32 = Math.max(0.005, m);
  return {
    fp32Map50_95: fp32,
    map50_95: fp32 * quantizationFactor(genome.quantization),
    tau: 3 * (1 + 0.15 * Math.log1p(pm)),
  };
}

/** mAP@0.5 from mAP@0.5:0.95 (ratio about 1.6 for small models, 1.36 for yolov5x). */
export const map50From = (m: number): number => Math.min(0.99, m * (1.75 - 0.5 * m));

function gaussian(rng: () => number): number {
  const u = Math.max(rng(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng());
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  if (ms <= 0) return Promise.resolve();
  return new Promise((resolve) => {
    const t = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
    function done() {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
  });
}

export interface SurrogateOptions {
  /** Milliseconds one trial takes (spread over its epochs); default DETSEARCH_SURROGATE_MS or 0. */
  msPerTrial?: number;
  getHardwareProfile?: (name: string) => HardwareProfile;
}

/**
 * A fast stand-in for training, for tests, demos and scale runs, labelled as such on every
 * result (name, backend and notes all say 'surrogate'). Deterministic per (search seed, genome).
 */
export class SurrogateEvaluator implements TrialEvaluator {
  readonly name = 'surrogate';
  readonly imageSizeFidelity = true;
  private readonly profiles = new Map<string, HardwareProfile>();

  constructor(private readonly options: SurrogateOptions = {}) {}

  async evaluate(req: EvaluationRequest, ctx: EvaluationContext): Promise<TrialMetrics> {
    const profile = this.profile(req.hardwareProfile);
    const ir = buildIR(req.genome);
    const cost = modelCost(ir);
    const latencyMs = predictLatency(ir, profile).predictedMs;
    const sizeBytes = cost.weightBytes[req.genome.quantization.precision];
    const est = surrogateEstimate(req.genome, cost.params, req.fidelity.imageSize);
    // Image-size rungs: each epoch converges toward the estimate at its own training size, and
    // costs time in proportion to its pixels.
    const fullSize = req.fidelity.imageSize ?? req.genome.imageSize;
    const sizeAt = (e: number): number => req.fidelity.imageSizeByEpoch?.[e - 1] ?? fullSize;
    const estimates = new Map<number, SurrogateEstimate>([[fullSize, est]]);
    const estimateAt = (size: number): SurrogateEstimate => {
      let v = estimates.get(size);
      if (!v) estimates.set(size, (v = surrogateEstimate(req.genome, cost.params, size)));
      return v;
    };
    const rng = seedrandom(`surrogate|${req.seed ?? 0}|${genomeKey(req.genome)}`);
    const offset = 0.006 * gaussian(rng);
    const msPerTrial = this.options.msPerTrial ?? 0;
    const msPerEpoch = (Number.isFinite(msPerTrial) ? msPerTrial : 0) / req.fidelity.epochs;

    const epochs: EpochReport[] = [];
    let map = 0;
    let fp32 = 0;
    for (let e = 1; e <= req.fidelity.epochs; e++) {
      const size = sizeAt(e);
      await sleep(msPerEpoch * (size / fullSize) ** 2, ctx.signal);
      if (ctx.signal.aborted) break;
      const at = estimateAt(size);
      const progress = 1 - Math.exp(-e / est.tau);
      const noise = 0.003 * gaussian(rng);
      fp32 = clamp01(at.fp32Map50_95 * progress + offset + noise);
      map = clamp01(at.map50_95 * progress + offset + noise);
      const report: EpochReport = {
        epoch: e,
        loss: 1 + 5 * Math.exp(-e / est.tau),
        map50: map50From(map),
        map50_95: map,
      };
      epochs.push(report);
      if ((await ctx.onEpoch(report)) === 'stop') break;
    }
    return {
      map50: map50From(map),
      map50_95: map,
      fp32Map50_95: fp32,
      latencyMs,
      latencySource: 'predicted',
      latencyProvenance: predictedProvenance(profile),
      params: cost.params,
      gflops: cost.gflops,
      sizeBytes,
      backend: 'surrogate',
      epochs,
      notes: SURROGATE_NOTE,
    };
  }

  private profile(name: string): HardwareProfile {
    let p = this.profiles.get(name);
    if (!p) {
      p = (this.options.getHardwareProfile ?? getHardwareProfile)(name);
      this.profiles.set(name, p);
    }
    return p;
  }
}

const clamp01 = (x: number) => Math.min(1, Math.max(0.0001, x));

export const surrogateEvaluator: EvaluatorDefinition = {
  name: 'surrogate',
  label: 'Analytic surrogate (tests and demos)',
  description:
    'An analytic stand-in for tests and demos: mAP is a formula of parameters, image size and precision with seeded noise, not a trained model.',
  trains: false,
  analytic: true,
  load: (s) => new SurrogateEvaluator({ msPerTrial: s.surrogateMs }),
};

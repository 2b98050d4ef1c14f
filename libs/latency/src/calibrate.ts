import { DomainError } from '@detsearch/common';
import { buildIR, parseGenome, type ModelIR, type Precision } from '@detsearch/genome';
import { latencyFeatures, opRooflines, predictFromFeatures, type LatencyFeatures } from './predict';
import {
  MAX_CALIBRATED_EFFICIENCY,
  OP_CLASSES,
  effectiveParameters,
  parseHardwareProfile,
  type HardwareProfile,
  type OpEfficiency,
  type OpOverhead,
} from './profile';

export interface LatencySample {
  /** A model IR, a genome or raw genome JSON. */
  model: ModelIR | unknown;
  /** Overrides the genome's precision. */
  precision?: Precision;
  /** int8 rows the export kept in float (default INT8_FLOAT_LAYERS). */
  floatLayers?: readonly number[];
  measuredMs: number;
}

export interface FeatureSample {
  features: LatencyFeatures;
  measuredMs: number;
}

export interface CalibrationOptions {
  /**
   * Weight of the pull towards the profile's current values, per parameter, in squared log units.
   * Keeps classes the samples barely exercise (depthwise without separable genomes) at their prior.
   */
  priorWeight?: number;
  maxIterations?: number;
  /** Timestamp stored on the profile; a parameter so the fit stays a pure function. */
  fittedAt?: string;
  notes?: string;
}

export interface PrecisionFit {
  precision: Precision;
  samples: number;
  efficiency: OpEfficiency;
  overheadUs: OpOverhead;
  /** Root-mean-square of log(predicted / measured) after the fit (0.1 is about 10%). */
  rmsLogError: number;
  iterations: number;
}

export interface CalibrationResult {
  profile: HardwareProfile;
  fits: PrecisionFit[];
}

// Parameters, in log space: 1/efficiency per class, then per-op and per-inference overhead (ms).
const NPARAM = OP_CLASSES.length + 2;
const MAX_LOG_INV_EFFICIENCY = Math.log(1e4);
const MIN_LOG_INV_EFFICIENCY = -Math.log(MAX_CALIBRATED_EFFICIENCY);
const MIN_LOG_OVERHEAD_MS = Math.log(1e-7);
const MAX_LOG_OVERHEAD_MS = Math.log(1e4);

function toTheta(e: OpEfficiency, o: OpOverhead): number[] {
  return [
    ...OP_CLASSES.map((c) => -Math.log(e[c])),
    Math.log(Math.max(o.perOpUs / 1e3, 1e-7)),
    Math.log(Math.max(o.perInferenceUs / 1e3, 1e-7)),
  ];
}

function fromTheta(theta: number[]): { efficiency: OpEfficiency; overheadUs: OpOverhead } {
  const efficiency = Object.fromEntries(OP_CLASSES.map((c, i) => [c, Math.exp(-theta[i]!)])) as OpEfficiency;
  return {
    efficiency,
    overheadUs: {
      perOpUs: Math.exp(theta[OP_CLASSES.length]!) * 1e3,
      perInferenceUs: Math.exp(theta[OP_CLASSES.length + 1]!) * 1e3,
    },
  };
}

function clampTheta(theta: number[]): number[] {
  return theta.map((t, i) =>
    i < OP_CLASSES.length
      ? Math.min(Math.max(t, MIN_LOG_INV_EFFICIENCY), MAX_LOG_INV_EFFICIENCY)
      : Math.min(Math.max(t, MIN_LOG_OVERHEAD_MS), MAX_LOG_OVERHEAD_MS),
  );
}

function designRow(f: LatencyFeatures): number[] {
  return [...OP_CLASSES.map((c) => f.rooflineMs[c]), f.ops, 1];
}

/** Solves the small symmetric positive-definite system A x = b (Gaussian elimination, partial pivoting). */
function solve(a: number[][], b: number[]): number[] {
  const n = b.length;
  const m = a.map((row, i) => [...row, b[i]!]);
  for (let col = 0; col < n; col++) {
    let pivot = col;
    for (let r = col + 1; r < n; r++) if (Math.abs(m[r]![col]!) > Math.abs(m[pivot]![col]!)) pivot = r;
    [m[col], m[pivot]] = [m[pivot]!, m[col]!];
    const p = m[col]![col]!;
    if (Math.abs(p) < 1e-300) throw new Error('calibration: singular normal equations');
    for (let r = col + 1; r < n; r++) {
      const factor = m[r]![col]! / p;
      for (let c = col; c <= n; c++) m[r]![c]! -= factor * m[col]![c]!;
    }
  }
  const x = new Array<number>(n).fill(0);
  for (let r = n - 1; r >= 0; r--) {
    let s = m[r]![n]!;
    for (let c = r + 1; c < n; c++) s -= m[r]![c]! * x[c]!;
    x[r] = s / m[r]![r]!;
  }
  return x;
}

/**
 * Least squares on log time, Levenberg-Marquardt in log-parameter space (so efficiencies and
 * overheads stay positive; efficiencies may pass 1 where the machine beats the profile's stated peak,
 * up to MAX_CALIBRATED_EFFICIENCY). The model is linear in 1/efficiency and
 * the overheads, so each residual's Jacobian is exact.
 */
function fitPrecision(
  rows: number[][],
  logMeasured: number[],
  theta0: number[],
  priorWeight: number,
  maxIterations: number,
): { theta: number[]; iterations: number; rms: number } {
  const sqrtPrior = Math.sqrt(priorWeight);
  const evaluate = (theta: number[]) => {
    const x = theta.map(Math.exp);
    const preds = rows.map((row) => row.reduce((s, a, j) => s + a * x[j]!, 0));
    const res = preds.map((p, i) => Math.log(p) - logMeasured[i]!);
    const prior = theta.map((t, j) => sqrtPrior * (t - theta0[j]!));
    const cost = res.reduce((s, r) => s + r * r, 0) + prior.reduce((s, r) => s + r * r, 0);
    return { x, preds, res, prior, cost };
  };
  let theta = clampTheta(theta0);
  let cur = evaluate(theta);
  let mu = 1e-3;
  let iterations = 0;
  for (; iterations < maxIterations; iterations++) {
    const jtj = Array.from({ length: NPARAM }, () => new Array<number>(NPARAM).fill(0));
    const jtr = new Array<number>(NPARAM).fill(0);
    rows.forEach((row, i) => {
      const jac = row.map((a, j) => (a * cur.x[j]!) / cur.preds[i]!);
      for (let j = 0; j < NPARAM; j++) {
        jtr[j]! += jac[j]! * cur.res[i]!;
        for (let k = 0; k < NPARAM; k++) jtj[j]![k]! += jac[j]! * jac[k]!;
      }
    });
    for (let j = 0; j < NPARAM; j++) {
      jtj[j]![j]! += priorWeight;
      jtr[j]! += sqrtPrior * cur.prior[j]!;
    }
    let improved = false;
    while (mu < 1e10) {
      const damped = jtj.map((row, j) => row.map((v, k) => (j === k ? v + mu * (v + 1e-12) : v)));
      const step = solve(
        damped,
        jtr.map((v) => -v),
      );
      const candidate = clampTheta(theta.map((t, j) => t + step[j]!));
      const next = evaluate(candidate);
      if (next.cost < cur.cost) {
        const gain = cur.cost - next.cost;
        theta = candidate;
        cur = next;
        mu = Math.max(mu / 3, 1e-12);
        improved = true;
        if (gain < 1e-14 * Math.max(1, cur.cost)) iterations = maxIterations;
        break;
      }
      mu *= 4;
    }
    if (!improved) break;
  }
  const rms = Math.sqrt(cur.res.reduce((s, r) => s + r * r, 0) / Math.max(cur.res.length, 1));
  return { theta, iterations, rms };
}

/** Fits efficiency and overhead per precision from precomputed features (pure, fast). */
export function calibrateFromFeatures(
  profile: HardwareProfile,
  samples: FeatureSample[],
  options: CalibrationOptions = {},
): CalibrationResult {
  if (samples.length === 0)
    throw new DomainError('LATENCY.NO_SAMPLES', 'calibration: needs at least one measured sample');
  for (const s of samples) {
    if (!(s.measuredMs > 0) || !Number.isFinite(s.measuredMs))
      throw new DomainError(
        'LATENCY.INVALID_SAMPLE',
        `calibration: measuredMs must be a positive number, got ${s.measuredMs}`,
        'measuredMs',
      );
  }
  const precisions = [...new Set(samples.map((s) => s.features.precision))];
  const fits: PrecisionFit[] = [];
  const byPrecision: HardwareProfile['byPrecision'] = { ...profile.byPrecision };
  for (const precision of precisions) {
    const group = samples.filter((s) => s.features.precision === precision);
    const start = effectiveParameters(profile, precision);
    const { theta, iterations, rms } = fitPrecision(
      group.map((s) => designRow(s.features)),
      group.map((s) => Math.log(s.measuredMs)),
      toTheta(start.efficiency, start.overheadUs),
      options.priorWeight ?? 1e-3,
      options.maxIterations ?? 200,
    );
    const fitted = fromTheta(theta);
    // Keep the precision's other overrides (activation costs): only efficiency and overhead are fitted.
    byPrecision[precision] = { ...profile.byPrecision[precision], ...fitted };
    fits.push({ precision, samples: group.length, ...fitted, rmsLogError: rms, iterations });
  }
  const calibrated = parseHardwareProfile(
    {
      ...profile,
      byPrecision,
      calibration: {
        fittedAt: options.fittedAt ?? new Date().toISOString(),
        method:
          'Levenberg-Marquardt least squares on log latency over per-class efficiency and per-op/per-inference overhead',
        samples: Object.fromEntries(fits.map((f) => [f.precision, f.samples])),
        rmsLogError: Object.fromEntries(fits.map((f) => [f.precision, f.rmsLogError])),
        ...(options.notes ? { notes: options.notes } : {}),
      },
    },
    `calibrated profile '${profile.name}'`,
  );
  return { profile: calibrated, fits };
}

/** Features of one model on a profile, for calibration or batch prediction. */
export function modelFeatures(
  model: ModelIR | unknown,
  profile: HardwareProfile,
  precision?: Precision,
  floatLayers?: readonly number[],
): LatencyFeatures {
  const ir =
    typeof model === 'object' && model !== null && 'ops' in model && 'tensors' in model
      ? (model as ModelIR)
      : buildIR(parseGenome(model));
  const p = precision ?? ir.genome.quantization.precision;
  return latencyFeatures(opRooflines(ir, profile, p, floatLayers), p);
}

/** Fits a profile's efficiency factors and overheads to measured latencies (one fit per precision). */
export function calibrateProfile(
  profile: HardwareProfile,
  samples: LatencySample[],
  options: CalibrationOptions = {},
): CalibrationResult {
  return calibrateFromFeatures(
    profile,
    samples.map((s) => ({
      features: modelFeatures(s.model, profile, s.precision, s.floatLayers),
      measuredMs: s.measuredMs,
    })),
    options,
  );
}

/** Predicted latency from features with a profile's parameters for the features' precision. */
export function predictFeatures(profile: HardwareProfile, f: LatencyFeatures): number {
  const { efficiency, overheadUs } = effectiveParameters(profile, f.precision);
  return predictFromFeatures(f, efficiency, overheadUs);
}

import { buildIR, parseGenome, STANDARD_MODELS, type Genome, type ModelIR } from '@detsearch/genome';
import { calibrateFromFeatures, calibrateProfile, modelFeatures, predictFeatures } from './calibrate';
import { kendallTau } from './accuracy';
import type { LatencyFeatures } from './predict';
import { parseHardwareProfile, type HardwareProfile, type PublishedFigure } from './profile';

/** Fewer published figures than this and a profile's leave-one-out numbers say little. */
export const MIN_PUBLISHED_FIGURES = 6;

/**
 * Pull of a published-figure fit towards the profile's stated efficiencies and overheads (squared
 * log units per parameter). Larger than a measured-genome fit's: a profile has a handful of figures
 * for seven parameters, so the datasheet priors must carry the classes the figures do not separate.
 */
export const PUBLISHED_PRIOR_WEIGHT = 0.05;

/** The genome of a published model: the YOLOv5 table at its scale, 80 COCO classes, SiLU. */
export function figureGenome(f: Pick<PublishedFigure, 'model' | 'imageSize' | 'precision'>): Genome {
  const [depthMultiple, widthMultiple] = STANDARD_MODELS[f.model];
  return parseGenome({
    depthMultiple,
    widthMultiple,
    imageSize: f.imageSize,
    numClasses: 80,
    separable: [],
    activation: 'silu',
    quantization: { precision: f.precision },
  });
}

/** Time a figure includes besides the network: pre-processing per input pixel, host post-processing. */
export function figurePipelineMs(profile: HardwareProfile, f: PublishedFigure): number {
  const p = profile.pipelineUs ?? { preprocessPerMpixelUs: 0, postprocessUs: 0 };
  let us = 0;
  if (f.includes.includes('preprocess')) us += (p.preprocessPerMpixelUs * f.imageSize * f.imageSize) / 1e6;
  if (f.includes.includes('postprocess')) us += p.postprocessUs;
  return us / 1e3;
}

// Building a YOLOv5x IR at 1280 px takes a while; figures repeat across fits (leave-one-out).
const irCache = new Map<string, ModelIR>();
function figureIR(f: PublishedFigure): ModelIR {
  const key = `${f.model}/${f.imageSize}/${f.precision}`;
  let ir = irCache.get(key);
  if (!ir) irCache.set(key, (ir = buildIR(figureGenome(f))));
  return ir;
}

export function figureFeatures(profile: HardwareProfile, f: PublishedFigure): LatencyFeatures {
  return modelFeatures(figureIR(f), profile, f.precision);
}

/** The network time a figure implies: its published time less the pipeline work it includes (floor: 20%). */
export function figureNetworkMs(profile: HardwareProfile, f: PublishedFigure): number {
  return Math.max(f.ms - figurePipelineMs(profile, f), 0.2 * f.ms);
}

/** A figure as the profile predicts it: network prediction plus the pipeline work the figure includes. */
export function predictFigure(profile: HardwareProfile, f: PublishedFigure): number {
  return predictFeatures(profile, figureFeatures(profile, f)) + figurePipelineMs(profile, f);
}

/**
 * Fits the profile's efficiencies and overheads to published figures (one fit per precision they
 * cover; other precisions keep the stated values). The profile's own figures by default.
 */
export function calibrateToFigures(
  profile: HardwareProfile,
  figures: readonly PublishedFigure[] = profile.publishedFigures ?? [],
  fittedAt = 'published figures',
): HardwareProfile {
  if (figures.length === 0) return profile;
  // One set of efficiencies and overheads for every precision: the peaks already carry what a
  // precision changes, and a handful of figures cannot support a separate fit per precision (a
  // precision with no figure of its own would keep its unfitted prior).
  const joint = figures[0]!.precision;
  const { profile: fitted, fits } = calibrateFromFeatures(
    profile,
    figures.map((f) => ({
      features: { ...figureFeatures(profile, f), precision: joint },
      measuredMs: figureNetworkMs(profile, f),
    })),
    { priorWeight: PUBLISHED_PRIOR_WEIGHT, fittedAt },
  );
  const { efficiency, overheadUs } = fits[0]!;
  const byPrecision: HardwareProfile['byPrecision'] = { ...profile.byPrecision };
  for (const p of profile.precisions) byPrecision[p] = { ...profile.byPrecision[p], efficiency, overheadUs };
  return parseHardwareProfile(
    {
      ...fitted,
      byPrecision,
      calibration: {
        ...fitted.calibration!,
        samples: { all: figures.length },
        rmsLogError: { all: fits[0]!.rmsLogError },
        method: `${fitted.calibration!.method}, prior weight ${PUBLISHED_PRIOR_WEIGHT}`,
        basis: 'published',
        notes: `${figures.length} published batch-1 figures listed in this profile (publishedFigures)`,
      },
    },
    `profile '${profile.name}' calibrated on published figures`,
  );
}

const calibratedCache = new Map<string, HardwareProfile>();

/**
 * A built-in profile with the efficiencies and overheads fitted to its published figures (memoized
 * on the profile's content); a profile without figures, or one already calibrated, as it is.
 */
export function withPublishedCalibration(profile: HardwareProfile): HardwareProfile {
  if (profile.calibration || !profile.publishedFigures?.length) return profile;
  const key = JSON.stringify(profile);
  let out = calibratedCache.get(key);
  if (!out) calibratedCache.set(key, (out = calibrateToFigures(profile)));
  return out;
}

export interface LooRow {
  figure: PublishedFigure;
  predictedMs: number;
  /** predicted / published - 1. */
  error: number;
}

export interface LooReport {
  profile: string;
  figures: number;
  /** True when there are fewer than MIN_PUBLISHED_FIGURES: the numbers below say little. */
  tooFew: boolean;
  rows: LooRow[];
  /** Median of |predicted / published - 1| (null with fewer than two figures). */
  medianAbsError: number | null;
  /** Largest max(predicted / published, published / predicted) (1 = exact). */
  worstRatio: number | null;
  kendallTau: number | null;
}

/**
 * Leave-one-out over a profile's published figures: each figure predicted by the stated profile
 * fitted to all the others. Needs at least two figures; reports `tooFew` under six.
 */
export function leaveOneOut(profile: HardwareProfile): LooReport {
  const figures = profile.publishedFigures ?? [];
  const base = {
    profile: profile.name,
    figures: figures.length,
    tooFew: figures.length < MIN_PUBLISHED_FIGURES,
  };
  if (figures.length < 2)
    return { ...base, rows: [], medianAbsError: null, worstRatio: null, kendallTau: null };
  const rows = figures.map((figure, i) => {
    const fitted = calibrateToFigures(
      profile,
      figures.filter((_, j) => j !== i),
    );
    const predictedMs = predictFigure(fitted, figure);
    return { figure, predictedMs, error: predictedMs / figure.ms - 1 };
  });
  const abs = rows.map((r) => Math.abs(r.error)).sort((a, b) => a - b);
  const mid = abs.length / 2;
  const medianAbsError = abs.length % 2 ? abs[Math.floor(mid)]! : (abs[mid - 1]! + abs[mid]!) / 2;
  const worstRatio = Math.max(
    ...rows.map((r) => Math.max(r.predictedMs / r.figure.ms, r.figure.ms / r.predictedMs)),
  );
  return {
    ...base,
    rows,
    medianAbsError,
    worstRatio,
    kendallTau: kendallTau(
      rows.map((r) => r.predictedMs),
      rows.map((r) => r.figure.ms),
    ),
  };
}

/**
 * A device profile refitted to latencies measured on the device (`detsearch worker --measure-only`):
 * starts from the profile fitted to its published figures (or its stated values) and fits the
 * precisions the measurements cover. The result says it is calibrated on the device.
 */
export function calibrateToDevice(
  profile: HardwareProfile,
  samples: readonly { genome: unknown; medianMs: number }[],
  options: { fittedAt?: string; source?: string } = {},
): HardwareProfile {
  const start = withPublishedCalibration(profile);
  const { profile: fitted } = calibrateProfile(
    start,
    samples.map((s) => ({ model: s.genome, measuredMs: s.medianMs })),
    { fittedAt: options.fittedAt },
  );
  return parseHardwareProfile(
    {
      ...fitted,
      calibration: {
        ...fitted.calibration!,
        basis: 'device',
        notes:
          `${samples.length} latencies measured on the device${options.source ? ` (${options.source})` : ''}` +
          (start.calibration
            ? `, starting from the fit to ${profile.publishedFigures.length} published figures`
            : ''),
      },
    },
    `profile '${profile.name}' calibrated on device measurements`,
  );
}

import { randomInt } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { DomainError, isDomainError } from '@detsearch/common';
import { DataRoot } from '@detsearch/config';
import { zodToDomainError } from '@detsearch/genome';
import {
  getHardwareProfile,
  getPreset,
  loadDefaultSearchSpace,
  presetSearchSpace,
  type HardwareProfile,
  type Preset,
} from '@detsearch/latency';
import { isStrategyName, OBJECTIVES, STRATEGY_NAMES } from '@detsearch/domain';
import type { NewSearch, SearchFidelity } from '@detsearch/persistence';
import {
  compileSearchSpace,
  overrideSpec,
  quantizationFromCode,
  type SearchSpaceOverride,
  type SearchSpaceSpec,
} from '@detsearch/search-space';
import { SYNTHETIC_NUM_CLASSES } from './evaluators/full';

const unique = (a: unknown[]) => new Set(a).size === a.length;
const positive = z.number({ invalid_type_error: 'must be a number' }).finite().positive('must be > 0');

export const MAX_TRIALS = 100_000;

export const fidelitySchema = z
  .object({
    epochs: z.number().int().min(1).max(1000),
    minEpochs: z.number().int().min(1).optional(),
    eta: z.number().min(2).max(10).optional(),
    imageSize: z.number().int().min(32).max(4096).multipleOf(32, 'must be a multiple of 32').optional(),
  })
  .strict()
  .refine((f) => f.minEpochs === undefined || f.minEpochs <= f.epochs, {
    message: 'minEpochs must not exceed epochs',
    path: ['minEpochs'],
  });

/** The body of POST /searches. A preset fills what the body leaves out. */
export const launchRequestSchema = z
  .object({
    name: z.string().trim().min(1).max(200).optional(),
    preset: z.string().min(1).max(100).optional(),
    strategy: z.string().min(1).max(50).optional(),
    objectives: z
      .array(z.enum(OBJECTIVES))
      .min(1)
      .max(OBJECTIVES.length)
      .refine(unique, 'has duplicates')
      .refine((a) => a.includes('map50_95'), 'must include map50_95')
      .optional(),
    constraints: z
      .object({
        maxLatencyMs: positive.optional(),
        maxSizeBytes: positive.optional(),
        maxParams: positive.optional(),
        maxGflops: positive.optional(),
        minMap50_95: z.number().min(0).max(1).optional(),
      })
      .strict()
      .optional(),
    budget: z
      .object({
        trials: z.number({ invalid_type_error: 'must be a number' }).int().min(1).max(MAX_TRIALS),
        wallClockMinutes: positive.max(7 * 24 * 60).optional(),
      })
      .strict()
      .optional(),
    seed: z
      .number()
      .int()
      .min(0)
      .max(2 ** 31 - 1)
      .optional(),
    searchSpace: z.record(z.unknown()).optional(),
    hardwareProfile: z.string().min(1).max(100).optional(),
    dataset: z.string().min(1).max(1000).optional(),
    fidelity: fidelitySchema.optional(),
    evaluator: z.string().min(1).max(50).optional(),
    supernetId: z.string().uuid('must be a supernet id (a UUID)').optional(),
    fineTune: z
      .object({
        topK: z.number().int().min(0).max(100).optional(),
        epochs: z.number().int().min(1).max(1000).optional(),
        seeds: z.number().int().min(1).max(2).optional(),
      })
      .strict()
      .optional(),
    supernetMinutes: positive.max(7 * 24 * 60).optional(),
  })
  .strict();

export type LaunchRequest = z.input<typeof launchRequestSchema>;

export const DEFAULT_HARDWARE_PROFILE = 'host';
export const DEFAULT_FIDELITY: SearchFidelity = { epochs: 9, minEpochs: 1, eta: 3 };
export const DEFAULT_EVALUATOR = 'full';
/** Final stage of a supernet search: the front's best 3 fine-tuned, one seed. */
export const DEFAULT_FINE_TUNE_TOP_K = 3;

export interface LaunchDeps {
  /** Throws a DomainError naming the field when the evaluator cannot be used. */
  assertEvaluator(name: string): Promise<void> | void;
  getPreset?: (name: string) => Preset;
  getHardwareProfile?: (name: string) => HardwareProfile;
  defaultSearchSpace?: () => SearchSpaceSpec;
  /**
   * The supernet of a launch with evaluator 'supernet': the one named by `supernetId` (checked
   * against the search's dataset and space), else the space's activation narrowed to one. Throws
   * DomainErrors naming `supernetId`. Absent: 'supernet' launches are refused.
   */
  supernetSpec?: (
    spec: SearchSpaceSpec,
    dataset: string | null,
    supernetId?: string,
  ) => Promise<SearchSpaceSpec>;
  /** Datasets are read only below this folder (default: the working directory). */
  dataRoot?: string;
}

/**
 * Validates a launch request and resolves it into the search row to store: the preset's
 * defaults, the search space (default space, preset override, request override), the profile
 * snapshot, constraints (the preset's latency budget), fidelity and seed. Nothing is written;
 * every rejection is a DomainError naming the field.
 */
export async function resolveLaunch(body: unknown, deps: LaunchDeps): Promise<NewSearch> {
  if (body === null || typeof body !== 'object' || Array.isArray(body))
    throw new DomainError('SEARCH.INVALID', 'body: must be a JSON object', 'body');
  const parsed = launchRequestSchema.safeParse(body);
  if (!parsed.success) throw zodToDomainError(parsed.error, 'SEARCH.INVALID', 'body');
  const req = parsed.data;

  let preset: Preset | undefined;
  if (req.preset !== undefined) {
    try {
      preset = (deps.getPreset ?? getPreset)(req.preset);
    } catch (err) {
      throw rewrap(err, 'PRESET.UNKNOWN', 'preset');
    }
  }

  const strategy = req.strategy ?? preset?.strategy;
  if (strategy === undefined) throw required('strategy');
  if (!isStrategyName(strategy))
    throw new DomainError(
      'SEARCH.UNKNOWN_STRATEGY',
      `strategy: unknown strategy '${strategy}'; expected one of ${STRATEGY_NAMES.join(', ')}`,
      'strategy',
    );

  const budget = req.budget ?? preset?.budget;
  if (budget === undefined) throw required('budget');
  const objectives = req.objectives ?? preset?.objectives ?? ['map50_95', 'latency'];
  if (!objectives.includes('map50_95'))
    throw new DomainError('SEARCH.INVALID', 'objectives: must include map50_95', 'objectives');

  const profileName = req.hardwareProfile ?? preset?.hardwareProfile ?? DEFAULT_HARDWARE_PROFILE;
  let profile: HardwareProfile;
  try {
    profile = (deps.getHardwareProfile ?? getHardwareProfile)(profileName);
  } catch (err) {
    throw rewrap(err, 'PROFILE.UNKNOWN', 'hardwareProfile');
  }

  const base = (deps.defaultSearchSpace ?? loadDefaultSearchSpace)();
  let spec = preset ? presetSearchSpace(preset, base) : base;
  if (req.searchSpace) spec = overrideSpec(spec, req.searchSpace as SearchSpaceOverride, 'searchSpace');
  compileSearchSpace(spec);
  const codes = typeof spec.quantization === 'string' ? [spec.quantization] : spec.quantization.choices;
  for (const code of codes) {
    const precision = quantizationFromCode(code).precision;
    if (!profile.precisions.includes(precision))
      throw new DomainError(
        'SEARCH.INVALID',
        `searchSpace.quantization: '${code}' is ${precision}, which profile '${profile.name}' does not run ` +
          `(supported: ${profile.precisions.join(', ')}); narrow the quantization choices`,
        'searchSpace.quantization',
      );
  }

  const fidelity: SearchFidelity = { ...(req.fidelity ?? preset?.fidelity ?? DEFAULT_FIDELITY) };
  fidelity.minEpochs ??= fidelity.epochs;
  fidelity.eta ??= 3;

  const constraints = { ...req.constraints };
  if (constraints.maxLatencyMs === undefined && preset?.latencyBudgetMs !== undefined)
    constraints.maxLatencyMs = preset.latencyBudgetMs;

  const evaluator = req.evaluator ?? (req.supernetId !== undefined ? 'supernet' : DEFAULT_EVALUATOR);
  await deps.assertEvaluator(evaluator);
  if (evaluator !== 'supernet')
    for (const field of ['supernetId', 'fineTune', 'supernetMinutes'] as const)
      if (req[field] !== undefined)
        throw new DomainError(
          'SEARCH.INVALID',
          `${field}: only with evaluator 'supernet' (got evaluator '${evaluator}')`,
          field,
        );

  // A trained model has as many classes as its dataset, whatever the search space's default says.
  const dataset = req.dataset !== undefined ? resolveDataset(req.dataset, deps.dataRoot) : null;
  if (dataset) spec = { ...spec, numClasses: dataset.numClasses };
  else if (evaluator === 'full' || evaluator === 'supernet')
    spec = { ...spec, numClasses: SYNTHETIC_NUM_CLASSES };
  if (evaluator === 'supernet') {
    if (!deps.supernetSpec)
      throw new DomainError(
        'EVALUATOR.UNAVAILABLE',
        "evaluator: 'supernet' is not available here",
        'evaluator',
      );
    spec = await deps.supernetSpec(spec, dataset?.path ?? null, req.supernetId);
  }

  const seed = req.seed ?? randomInt(0, 2 ** 31 - 1);
  return {
    name:
      req.name ?? `${preset?.name ?? strategy}-${new Date().toISOString().slice(0, 19).replace('T', ' ')}`,
    strategy,
    objectives,
    constraints,
    budget,
    seed,
    searchSpace: spec as unknown as Record<string, unknown>,
    hardwareProfile: profile.name,
    hardwareProfileSpec: profile as unknown as Record<string, unknown>,
    preset: preset?.name ?? null,
    dataset: dataset?.path ?? null,
    fidelity,
    evaluator,
    request: body as Record<string, unknown>,
    ...(evaluator === 'supernet'
      ? {
          supernetId: req.supernetId ?? null,
          fineTune: {
            topK: req.fineTune?.topK ?? DEFAULT_FINE_TUNE_TOP_K,
            epochs: req.fineTune?.epochs ?? fidelity.epochs,
            seeds: req.fineTune?.seeds ?? 1,
          },
        }
      : {}),
  };
}

/**
 * A dataset named by a launch request: a data.yaml below DATA_ROOT (default the working directory),
 * so an API client cannot make the service read arbitrary files. Returns its class count.
 */
export function resolveDataset(path: string, dataRoot?: string): { path: string; numClasses: number } {
  const fail = (why: string) => new DomainError('SEARCH.INVALID_DATASET', `dataset: ${why}`, 'dataset');
  const root = new DataRoot(dataRoot);
  let real: string;
  try {
    real = root.confine(path, 'dataset');
  } catch (err) {
    if (isDomainError(err) && err.code === 'DATASET.NOT_FOUND')
      throw fail(`no such file '${path}' below DATA_ROOT (${root.realRoot})`);
    if (isDomainError(err) && err.code === 'DATASET.OUTSIDE_ROOT')
      throw fail(`'${path}' is outside DATA_ROOT (${root.realRoot})`);
    throw err;
  }
  let doc: { nc?: unknown; names?: unknown };
  try {
    doc = (parseYaml(readFileSync(real, 'utf8')) ?? {}) as typeof doc;
  } catch (err) {
    throw fail(`'${path}' is not a YOLO data.yaml: ${(err as Error).message}`);
  }
  const names = Array.isArray(doc.names)
    ? doc.names.length
    : doc.names && typeof doc.names === 'object'
      ? Object.keys(doc.names).length
      : undefined;
  const nc = typeof doc.nc === 'number' ? doc.nc : names;
  if (!Number.isInteger(nc) || (nc as number) < 1) throw fail(`'${path}' gives no class count (nc or names)`);
  return { path: real, numClasses: nc as number };
}

function required(field: string): DomainError {
  return new DomainError('SEARCH.INVALID', `${field}: required (give it, or a preset that sets it)`, field);
}

/** Keeps a DomainError's code and message but blames the request field. */
function rewrap(err: unknown, fallbackCode: string, field: string): DomainError {
  if (isDomainError(err)) {
    const message = err.message.startsWith(`${field}:`) ? err.message : `${field}: ${err.message}`;
    return new DomainError(err.code, message, field, err.details);
  }
  return new DomainError(fallbackCode, `${field}: ${(err as Error).message}`, field);
}

import { randomInt } from 'node:crypto';
import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { DomainError, isDomainError } from '@detsearch/common';
import { DataRoot } from '@detsearch/config';
import { GENOME_LIMITS, zodToDomainError } from '@detsearch/genome';
import {
  getHardwareProfile,
  getPreset,
  loadDefaultSearchSpace,
  presetSearchSpace,
  type HardwareProfile,
  type Preset,
} from '@detsearch/latency';
import { isStrategyName, OBJECTIVES, STRATEGY_NAMES, type ObjectiveName } from '@detsearch/domain';
import type { NewSearch, SearchFidelity } from '@detsearch/persistence';
import {
  compileSearchSpace,
  overrideSpec,
  quantizationFromCode,
  type SearchSpaceOverride,
  type SearchSpaceSpec,
} from '@detsearch/search-space';
import { rungEpochs } from './asha';
import { SYNTHETIC_NUM_CLASSES } from './evaluators/full';

const unique = (a: unknown[]) => new Set(a).size === a.length;

/** A number field whose missing and wrong-typed cases say so (zod's defaults blame the range). */
const number = (kind: 'a number' | 'an integer' = 'a number') =>
  z.number({ required_error: 'required', invalid_type_error: `must be ${kind}` }).finite(`must be ${kind}`);
export const MAX_SUPERNET_ADAPT_STEPS = 1000;
const integer = (min: number, max: number) =>
  number('an integer')
    .int('must be an integer')
    .min(min, `must not be less than ${min}`)
    .max(max, `must not be greater than ${max}`);
const positive = number().positive('must be > 0');

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** JSON text the database and logs can hold: no NUL, no unpaired UTF-16 surrogate. */
export function isStorableText(s: string): boolean {
  return !s.includes('\u0000') && !LONE_SURROGATE.test(s);
}

/** A bounded string of storable text. */
export const text = (max: number) =>
  z
    .string({ required_error: 'required', invalid_type_error: 'must be a string' })
    .min(1, 'must not be empty')
    .max(max, `must be at most ${max} characters`)
    .refine(isStorableText, 'must not contain NUL characters or unpaired surrogates');

const oneOf = <T extends string>(values: readonly [T, ...T[]], what: string) =>
  z.enum(values, {
    errorMap: (issue, ctx) => ({
      message:
        issue.code === 'invalid_enum_value'
          ? `unknown ${what} ${String(JSON.stringify(ctx.data)).slice(0, 60)}; expected one of ${values.join(', ')}`
          : `must be one of ${values.join(', ')}`,
    }),
  });

export const MAX_TRIALS = 100_000;
export const MAX_NAME_LENGTH = 200;

export const fidelitySchema = z
  .object({
    epochs: integer(1, 1000),
    minEpochs: integer(1, 1000).optional(),
    eta: number().min(2, 'must not be less than 2').max(10, 'must not be greater than 10').optional(),
    imageSize: integer(32, 4096).multipleOf(32, 'must be a multiple of 32').optional(),
    imageSizes: z
      .array(integer(32, 4096).multipleOf(32, 'must be a multiple of 32'), {
        invalid_type_error: 'must be an array of image sizes',
      })
      .min(1, 'must not be empty')
      .max(16, 'must have at most 16 entries')
      .refine((a) => a.every((s, i) => i === 0 || s > a[i - 1]!), 'must be increasing')
      .optional(),
  })
  .strict()
  .refine((f) => f.minEpochs === undefined || f.minEpochs <= f.epochs, {
    message: 'minEpochs must not exceed epochs',
    path: ['minEpochs'],
  })
  .refine((f) => !f.imageSizes || f.imageSize === undefined || f.imageSizes.every((s) => s < f.imageSize!), {
    message: 'every size must be below imageSize (the size promoted trials finish at)',
    path: ['imageSizes'],
  });

/**
 * The body of POST /searches, and the one validation of it (the API documents it, the CLI builds
 * it): unknown keys are rejected by name. A preset fills what the body leaves out.
 */
export const launchRequestSchema = z
  .object({
    name: text(MAX_NAME_LENGTH).optional(),
    preset: text(100).optional(),
    strategy: oneOf(STRATEGY_NAMES, 'strategy').optional(),
    objectives: z
      .array(oneOf(OBJECTIVES, 'objective'), { invalid_type_error: 'must be an array of objective names' })
      .min(1, 'must not be empty')
      .max(OBJECTIVES.length, `must have at most ${OBJECTIVES.length} entries`)
      .refine(unique, 'has duplicates')
      .refine((a) => a.includes('map50_95'), 'must include map50_95')
      .optional(),
    constraints: z
      .object({
        maxLatencyMs: positive.optional(),
        maxSizeBytes: positive.optional(),
        maxParams: positive.optional(),
        maxGflops: positive.optional(),
        minMap50_95: number()
          .min(0, 'must not be less than 0')
          .max(1, 'must not be greater than 1')
          .optional(),
      })
      .strict()
      .optional(),
    budget: z
      .object(
        {
          trials: integer(1, MAX_TRIALS),
          wallClockMinutes: positive.max(7 * 24 * 60, `must not be greater than ${7 * 24 * 60}`).optional(),
        },
        { invalid_type_error: 'must be an object' },
      )
      .strict()
      .optional(),
    seed: integer(0, 2 ** 31 - 1).optional(),
    searchSpace: z.record(z.unknown(), { invalid_type_error: 'must be an object' }).optional(),
    hardwareProfile: text(100).optional(),
    dataset: text(1000).optional(),
    fidelity: fidelitySchema.optional(),
    evaluator: text(50).optional(),
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
    supernetAdaptSteps: integer(0, MAX_SUPERNET_ADAPT_STEPS).optional(),
    // Reuse earlier evaluations of the same genomes on the same dataset and fidelity (default on).
    warmStart: z.boolean({ invalid_type_error: 'must be a boolean' }).optional(),
  })
  .strict();

export type LaunchRequest = z.input<typeof launchRequestSchema>;

/**
 * Validates a launch body with the one launch schema (the API runs it at the edge, resolveLaunch
 * again before resolving): a DomainError naming each bad field, an unknown key by its own path
 * (`budget.extra: unknown field`).
 */
export function parseLaunchRequest(body: unknown): z.output<typeof launchRequestSchema> {
  if (body === null || typeof body !== 'object' || Array.isArray(body))
    throw new DomainError('SEARCH.INVALID', 'body: must be a JSON object', 'body');
  const parsed = launchRequestSchema.safeParse(body);
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues.flatMap((i): z.ZodIssue[] =>
    i.code === 'unrecognized_keys'
      ? i.keys.map((k) => ({
          code: 'custom',
          // A key that is not a plain name (empty, spaces, control characters) is shown quoted.
          path: [...i.path, /^[\w$-]+$/.test(k) ? k : JSON.stringify(k)],
          message: 'unknown field',
        }))
      : [i],
  );
  // An unknown strategy keeps its own code (clients and the CLI branch on it).
  const first = issues[0];
  const code =
    first?.code === 'invalid_enum_value' && first.path.join('.') === 'strategy'
      ? 'SEARCH.UNKNOWN_STRATEGY'
      : 'SEARCH.INVALID';
  throw zodToDomainError(new z.ZodError(issues), code, 'body');
}

export const DEFAULT_HARDWARE_PROFILE = 'host';
export const DEFAULT_FIDELITY: SearchFidelity = { epochs: 9, minEpochs: 1, eta: 3 };
export const DEFAULT_EVALUATOR = 'full';
/** Final stage of a supernet search: the front's best 3 fine-tuned, one seed. */
export const DEFAULT_FINE_TUNE_TOP_K = 3;
/**
 * Training steps each supernet candidate takes from its inherited weights before it is scored
 * (8 images each, about half a second on one core at 160 px). Measured on the benchmark space
 * (docs/supernet.md): 40-50 steps rank candidates better than 10 on every supernet tried, and 40
 * still scores about 300 candidates an hour on 2 cores.
 */
export const DEFAULT_SUPERNET_ADAPT_STEPS = 40;

/** The supernet training budget a search asked for (minutes), if any; the service has the default. */
export function requestedSupernetMinutes(request: Record<string, unknown>): number | undefined {
  return typeof request.supernetMinutes === 'number' ? request.supernetMinutes : undefined;
}

/** The adaptation steps of a supernet search's candidates: its request's, else the default. */
export function supernetAdaptSteps(request: Record<string, unknown>): number {
  return typeof request.supernetAdaptSteps === 'number'
    ? request.supernetAdaptSteps
    : DEFAULT_SUPERNET_ADAPT_STEPS;
}
export const DEFAULT_OBJECTIVES: ObjectiveName[] = ['map50_95', 'latency'];

export interface LaunchDeps {
  /** Throws a DomainError naming the field when the evaluator cannot be used. */
  assertEvaluator(name: string): Promise<void> | void;
  /** Whether the evaluator trains at per-epoch image sizes (image-size rungs); absent: assumed. */
  imageSizeFidelity?(name: string): Promise<boolean> | boolean;
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
  /**
   * Objectives must come from the body or the preset (the REST API); otherwise they default to
   * DEFAULT_OBJECTIVES (library and CLI callers).
   */
  objectivesRequired?: boolean;
  /** This deployment's cap on budget.trials (below MAX_TRIALS). */
  maxTrials?: number;
  /** Where datasets may live (default: the working directory). */
  dataRoot?: string;
}

/**
 * Validates a launch request and resolves it into the search row to store: the preset's
 * defaults, the search space (default space, preset override, request override), the profile
 * snapshot, constraints (the preset's latency budget), fidelity and seed. Nothing is written;
 * every rejection is a DomainError naming the field.
 */
export async function resolveLaunch(body: unknown, deps: LaunchDeps): Promise<NewSearch> {
  const req = parseLaunchRequest(body);

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
  if (deps.maxTrials !== undefined && budget.trials > deps.maxTrials)
    throw new DomainError(
      'SEARCH.INVALID',
      `budget.trials: must not be greater than ${deps.maxTrials} (this deployment's limit)`,
      'budget.trials',
    );
  const objectives =
    req.objectives ?? preset?.objectives ?? (deps.objectivesRequired ? undefined : DEFAULT_OBJECTIVES);
  if (objectives === undefined) throw required('objectives');
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
  if (fidelity.imageSizes) {
    const rungs = rungEpochs(fidelity);
    if (fidelity.imageSizes.length > rungs.length)
      throw new DomainError(
        'SEARCH.INVALID',
        `fidelity.imageSizes: ${fidelity.imageSizes.length} sizes for ${rungs.length} ASHA rung(s) ` +
          `(rungs at epochs ${rungs.join(', ') || 'none'}); give at most one size per rung, and set minEpochs ` +
          'below epochs for rungs',
        'fidelity.imageSizes',
      );
  }

  const constraints = { ...req.constraints };
  if (constraints.maxLatencyMs === undefined && preset?.latencyBudgetMs !== undefined)
    constraints.maxLatencyMs = preset.latencyBudgetMs;

  const evaluator = req.evaluator ?? (req.supernetId !== undefined ? 'supernet' : DEFAULT_EVALUATOR);
  await deps.assertEvaluator(evaluator);
  if (fidelity.imageSizes && deps.imageSizeFidelity && !(await deps.imageSizeFidelity(evaluator)))
    throw new DomainError(
      'SEARCH.INVALID',
      `fidelity.imageSizes: evaluator '${evaluator}' trains every epoch at one image size; ` +
        'image-size rungs need an evaluator that supports them (surrogate)',
      'fidelity.imageSizes',
    );
  if (evaluator !== 'supernet')
    for (const field of ['supernetId', 'fineTune', 'supernetMinutes', 'supernetAdaptSteps'] as const)
      if (req[field] !== undefined)
        throw new DomainError(
          'SEARCH.INVALID',
          `${field}: only with evaluator 'supernet' (got evaluator '${evaluator}')`,
          field,
        );

  // A trained model has as many classes as its dataset, whatever the search space's default says.
  const dataset = req.dataset !== undefined ? await resolveDataset(req.dataset, deps.dataRoot) : null;
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

/** A data.yaml is a few kilobytes; anything far bigger is not one. */
export const MAX_DATA_YAML_BYTES = 1 << 20;

/**
 * A dataset named by a launch request: a regular data.yaml file below DATA_ROOT (default the
 * working directory), so an API client cannot make the service read arbitrary files. A missing
 * file and one outside the root get the same answer (no oracle for which files exist), and the
 * message shows only the path as given. Read asynchronously with a size cap, so a FIFO or device
 * cannot block the event loop. Returns the real path and the class count.
 */
export async function resolveDataset(
  path: string,
  dataRoot?: string,
): Promise<{ path: string; numClasses: number }> {
  const fail = (why: string) => new DomainError('SEARCH.INVALID_DATASET', `dataset: ${why}`, 'dataset');
  const notFound = () =>
    fail(
      `no data.yaml '${path}' below DATA_ROOT: datasets are read only below DATA_ROOT (default: the ` +
        'working directory); set DATA_ROOT to a folder above the dataset',
    );
  let real: string;
  try {
    real = new DataRoot(dataRoot).confine(path, 'dataset');
  } catch (err) {
    if (isDomainError(err) && (err.code === 'DATASET.NOT_FOUND' || err.code === 'DATASET.OUTSIDE_ROOT'))
      throw notFound();
    throw err;
  }
  let content: string;
  try {
    // O_NONBLOCK: opening a FIFO must not wait for a writer; the check below then rejects it.
    const handle = await open(real, constants.O_RDONLY | constants.O_NONBLOCK);
    try {
      const info = await handle.stat();
      if (!info.isFile()) throw fail(`'${path}' is not a regular file`);
      if (info.size > MAX_DATA_YAML_BYTES)
        throw fail(`'${path}' is larger than ${MAX_DATA_YAML_BYTES} bytes; not a data.yaml`);
      const buf = Buffer.alloc(info.size);
      const { bytesRead } = await handle.read(buf, 0, info.size, 0);
      content = buf.subarray(0, bytesRead).toString('utf8');
    } finally {
      await handle.close();
    }
  } catch (err) {
    if (isDomainError(err)) throw err;
    throw notFound();
  }
  let doc: { nc?: unknown; names?: unknown };
  try {
    doc = (parseYaml(content) ?? {}) as typeof doc;
  } catch (err) {
    throw fail(`'${path}' is not a YOLO data.yaml: ${(err as Error).message}`);
  }
  if (doc === null || typeof doc !== 'object') throw fail(`'${path}' is not a YOLO data.yaml`);
  const names = Array.isArray(doc.names)
    ? doc.names.length
    : doc.names && typeof doc.names === 'object'
      ? Object.keys(doc.names).length
      : undefined;
  const nc = typeof doc.nc === 'number' ? doc.nc : names;
  if (!Number.isInteger(nc) || (nc as number) < 1) throw fail(`'${path}' gives no class count (nc or names)`);
  if ((nc as number) > GENOME_LIMITS.numClasses.max)
    throw fail(`'${path}' has nc ${nc}; at most ${GENOME_LIMITS.numClasses.max} classes are supported`);
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

import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { DomainError } from '@detsearch/common';
import {
  ACTIVATIONS,
  GENOME_LIMITS,
  SEPARABLE_ROWS,
  STAGE_MULTIPLE_LIMITS,
  STAGES,
  parseGenome,
  zodToDomainError,
  type Genome,
  type Quantization,
} from '@detsearch/genome';
import type { Dimension, Params, SearchSpace } from './dimensions';

/** Quantization settings as one categorical code: fp32, fp16, int8-<static|dynamic>-<per-tensor|per-channel>. */
export const QUANTIZATION_CODES = [
  'fp32',
  'fp16',
  'int8-static-per-channel',
  'int8-static-per-tensor',
  'int8-dynamic-per-channel',
  'int8-dynamic-per-tensor',
] as const;
export type QuantizationCode = (typeof QUANTIZATION_CODES)[number];

export function quantizationFromCode(code: QuantizationCode): Quantization {
  if (code === 'fp32' || code === 'fp16') return { precision: code };
  const [, scheme, ...gran] = code.split('-');
  const granularity = gran.join('-') as Quantization['granularity'];
  return scheme === 'static'
    ? { precision: 'int8', scheme: 'static', granularity, calibration: 'minmax' }
    : { precision: 'int8', scheme: 'dynamic', granularity };
}

export function quantizationToCode(q: Quantization): QuantizationCode {
  if (q.precision !== 'int8') return q.precision;
  return `int8-${q.scheme ?? 'static'}-${q.granularity ?? 'per-channel'}` as QuantizationCode;
}

const sortedUnique = (a: number[]) => a.every((v, i) => i === 0 || v > a[i - 1]!);

const multipleGrid = z
  .object({
    type: z.literal('ordinal'),
    values: z
      .array(z.number().min(GENOME_LIMITS.multiple.min).max(GENOME_LIMITS.multiple.max))
      .min(1)
      .refine(sortedUnique, 'values must be strictly increasing'),
  })
  .strict();
const multipleRange = z
  .object({
    type: z.literal('float'),
    low: z.number().min(GENOME_LIMITS.multiple.min),
    high: z.number().max(GENOME_LIMITS.multiple.max),
  })
  .strict()
  .refine((d) => d.low <= d.high, 'low must not exceed high');
const multipleField = z.union([
  z.number().min(GENOME_LIMITS.multiple.min).max(GENOME_LIMITS.multiple.max),
  multipleGrid,
  multipleRange,
]);

const imageSizeField = z.union([
  z.number().int().multipleOf(32, 'must be a multiple of 32'),
  z
    .object({
      type: z.literal('int'),
      low: z.number().int().min(32).multipleOf(32, 'must be a multiple of 32'),
      high: z.number().int().max(GENOME_LIMITS.imageSize.max).multipleOf(32, 'must be a multiple of 32'),
      step: z.number().int().multipleOf(32, 'must be a multiple of 32').default(32),
    })
    .strict()
    .refine((d) => d.low <= d.high, 'low must not exceed high'),
  z
    .object({
      type: z.literal('ordinal'),
      values: z
        .array(z.number().int().min(32).multipleOf(32, 'must be a multiple of 32'))
        .min(1)
        .refine(sortedUnique, 'values must be strictly increasing'),
    })
    .strict(),
]);

const activationField = z.union([
  z.enum(ACTIVATIONS),
  z.object({ type: z.literal('categorical'), choices: z.array(z.enum(ACTIVATIONS)).min(1) }).strict(),
]);

const separableLayer = z
  .number()
  .int()
  .refine(
    (i) => SEPARABLE_ROWS.includes(i),
    `is not a layer that can be separable; allowed: ${SEPARABLE_ROWS.join(', ')}`,
  );
const separableField = z.union([
  z.array(separableLayer),
  z
    .object({
      type: z.literal('subset'),
      layers: z
        .array(separableLayer)
        .min(1)
        .refine((a) => new Set(a).size === a.length, 'has duplicates'),
    })
    .strict(),
]);

/**
 * Per-stage multipliers: fixed (one per stage), or a grid every stage picks from independently
 * (one ordinal dimension per stage, `stageWidth.<k>`).
 */
const stageField = z.union([
  z
    .array(z.number().min(STAGE_MULTIPLE_LIMITS.min).max(STAGE_MULTIPLE_LIMITS.max))
    .length(STAGES.length, `needs one multiplier per stage (${STAGES.length})`),
  z
    .object({
      type: z.literal('ordinal'),
      values: z
        .array(z.number().min(STAGE_MULTIPLE_LIMITS.min).max(STAGE_MULTIPLE_LIMITS.max))
        .min(1)
        .refine(sortedUnique, 'values must be strictly increasing'),
    })
    .strict(),
]);

const quantizationField = z.union([
  z.enum(QUANTIZATION_CODES),
  z.object({ type: z.literal('categorical'), choices: z.array(z.enum(QUANTIZATION_CODES)).min(1) }).strict(),
]);

export const searchSpaceSpecSchema = z
  .object({
    name: z.string().min(1).default('custom'),
    description: z.string().optional(),
    depthMultiple: multipleField,
    widthMultiple: multipleField,
    numClasses: z.number().int().min(1).max(GENOME_LIMITS.numClasses.max).default(80),
    imageSize: imageSizeField,
    activation: activationField.default('silu'),
    separable: separableField.default([]),
    quantization: quantizationField.default('fp32'),
    stageDepth: stageField.optional(),
    stageWidth: stageField.optional(),
  })
  .strict();

export type SearchSpaceSpec = z.infer<typeof searchSpaceSpecSchema>;
/** What a preset or request may override: any subset of the fields. */
export type SearchSpaceOverride = Partial<z.input<typeof searchSpaceSpecSchema>>;

export function validateSearchSpaceSpec(input: unknown, source = 'searchSpace'): SearchSpaceSpec {
  const r = searchSpaceSpecSchema.safeParse(input);
  if (!r.success) {
    const e = zodToDomainError(r.error, 'SEARCH_SPACE.INVALID', source);
    throw new DomainError(e.code, `${source}: ${e.message}`, e.field, e.details);
  }
  return r.data;
}

export function parseSearchSpaceYaml(text: string, source = 'search space'): SearchSpaceSpec {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    throw new DomainError(
      'SEARCH_SPACE.INVALID_YAML',
      `${source}: not valid YAML: ${(err as Error).message}`,
    );
  }
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) {
    throw new DomainError('SEARCH_SPACE.INVALID', `${source}: must be a mapping of genome fields`);
  }
  return validateSearchSpaceSpec(doc, source);
}

/** A spec with some fields replaced (presets narrow the default space this way). */
export function overrideSpec(
  base: SearchSpaceSpec,
  override: SearchSpaceOverride | undefined,
  source = 'searchSpace',
): SearchSpaceSpec {
  if (!override) return base;
  return validateSearchSpaceSpec({ ...base, ...override }, source);
}

/** The search space in strategy form, with the mapping between points and genomes. */
export interface CompiledSearchSpace extends SearchSpace {
  spec: SearchSpaceSpec;
  decode(params: Params): Genome;
  encode(genome: Genome): Params;
}

export function compileSearchSpace(spec: SearchSpaceSpec): CompiledSearchSpace {
  const dimensions: Dimension[] = [];
  const fixed: Record<string, unknown> = { numClasses: spec.numClasses };

  for (const key of ['depthMultiple', 'widthMultiple'] as const) {
    const f = spec[key];
    if (typeof f === 'number') fixed[key] = f;
    else if (f.type === 'ordinal') dimensions.push({ name: key, type: 'ordinal', values: f.values });
    else dimensions.push({ name: key, type: 'float', low: f.low, high: f.high });
  }
  const img = spec.imageSize;
  if (typeof img === 'number') fixed.imageSize = img;
  else if (img.type === 'int')
    dimensions.push({ name: 'imageSize', type: 'int', low: img.low, high: img.high, step: img.step });
  else dimensions.push({ name: 'imageSize', type: 'ordinal', values: img.values });

  if (typeof spec.activation === 'string') fixed.activation = spec.activation;
  else dimensions.push({ name: 'activation', type: 'categorical', choices: spec.activation.choices });

  const sep = spec.separable;
  const separableLayers = Array.isArray(sep) ? [] : [...sep.layers].sort((a, b) => a - b);
  if (Array.isArray(sep)) fixed.separable = sep;
  else for (const l of separableLayers) dimensions.push({ name: `separable.${l}`, type: 'boolean' });

  const q = spec.quantization;
  if (typeof q === 'string') fixed.quantization = quantizationFromCode(q);
  else dimensions.push({ name: 'quantization', type: 'categorical', choices: q.choices });

  const stageKeys = ['stageDepth', 'stageWidth'] as const;
  for (const key of stageKeys) {
    const f = spec[key];
    if (f === undefined) continue;
    if (Array.isArray(f)) fixed[key] = f;
    else
      STAGES.forEach((_, k) => dimensions.push({ name: `${key}.${k}`, type: 'ordinal', values: f.values }));
  }
  const stageParam = (name: string) => stageKeys.find((key) => name.startsWith(`${key}.`));

  const round2 = (x: number) => Math.round(x * 100) / 100;
  return {
    spec,
    dimensions,
    decode(params: Params): Genome {
      const g: Record<string, unknown> = { ...fixed };
      for (const d of dimensions) {
        const v = params[d.name];
        if (v === undefined)
          throw new DomainError('SEARCH_SPACE.MISSING_PARAM', `params: missing '${d.name}'`, d.name);
        if (d.name.startsWith('separable.') || stageParam(d.name)) continue;
        if (d.name === 'quantization') g.quantization = quantizationFromCode(v as QuantizationCode);
        else g[d.name] = d.type === 'float' ? round2(v as number) : v;
      }
      if (!Array.isArray(sep)) g.separable = separableLayers.filter((l) => params[`separable.${l}`] === true);
      for (const key of stageKeys)
        if (spec[key] !== undefined && !Array.isArray(spec[key]))
          g[key] = STAGES.map((_, k) => params[`${key}.${k}`] as number);
      return parseGenome(g);
    },
    encode(genome: Genome): Params {
      const p: Params = {};
      for (const d of dimensions) {
        const stage = stageParam(d.name);
        if (stage) p[d.name] = genome[stage]?.[Number(d.name.slice(stage.length + 1))] ?? 1;
        else if (d.name.startsWith('separable.'))
          p[d.name] = genome.separable.includes(Number(d.name.slice(10)));
        else if (d.name === 'quantization') p[d.name] = quantizationToCode(genome.quantization);
        else p[d.name] = genome[d.name as 'depthMultiple' | 'widthMultiple' | 'imageSize' | 'activation'];
      }
      return p;
    },
  };
}

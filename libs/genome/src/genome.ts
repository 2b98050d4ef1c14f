import { z } from 'zod';
import { DomainError } from '@detsearch/common';
import { SEPARABLE_ROWS } from './yolov5-table';

export const ACTIVATIONS = ['silu', 'relu', 'hardswish', 'leakyrelu'] as const;
export type Activation = (typeof ACTIVATIONS)[number];
export const PRECISIONS = ['fp32', 'fp16', 'int8'] as const;
export type Precision = (typeof PRECISIONS)[number];
export const INT8_SCHEMES = ['static', 'dynamic'] as const;
export const GRANULARITIES = ['per-tensor', 'per-channel'] as const;
export const CALIBRATIONS = ['minmax', 'percentile'] as const;

export interface Quantization {
  precision: Precision;
  /** int8 only. */
  scheme?: (typeof INT8_SCHEMES)[number];
  granularity?: (typeof GRANULARITIES)[number];
  calibration?: (typeof CALIBRATIONS)[number];
}

/** One candidate architecture, with every default filled in. */
export interface Genome {
  depthMultiple: number;
  widthMultiple: number;
  numClasses: number;
  imageSize: number;
  separable: number[];
  activation: Activation;
  quantization: Quantization;
  /**
   * Per-stage multipliers on top of the global ones (structured pruning as architecture): one per
   * entry of STAGES, scaling that stage's C3 repeats (depth) or its rows' channels (width).
   * Absent: 1 everywhere.
   */
  stageDepth?: number[];
  stageWidth?: number[];
}

/**
 * The stages per-stage multipliers address: the four backbone stages (a stride-2 Conv and its C3)
 * and the four neck blocks (a Conv and the C3 it feeds), as rows of YOLOV5_TABLE.
 */
export const STAGES: readonly (readonly number[])[] = [
  [1, 2],
  [3, 4],
  [5, 6],
  [7, 8],
  [10, 13],
  [14, 17],
  [18, 20],
  [21, 23],
];
export const STAGE_MULTIPLE_LIMITS = { min: 0.25, max: 2 } as const;

/** The stage a table row belongs to, or -1 (stem, SPPF, upsample, concat, Detect). */
export function stageOfRow(row: number): number {
  return STAGES.findIndex((rows) => rows.includes(row));
}

export const GENOME_LIMITS = {
  multiple: { min: 0.05, max: 4 },
  numClasses: { min: 1, max: 10_000 },
  imageSize: { min: 32, max: 4096 },
} as const;

const quantizationSchema = z
  .object({
    precision: z.enum(PRECISIONS).default('fp32'),
    scheme: z.enum(INT8_SCHEMES).optional(),
    granularity: z.enum(GRANULARITIES).optional(),
    calibration: z.enum(CALIBRATIONS).optional(),
  })
  .strict()
  .superRefine((q, ctx) => {
    if (q.precision !== 'int8') {
      for (const key of ['scheme', 'granularity', 'calibration'] as const) {
        if (q[key] !== undefined)
          ctx.addIssue({ code: 'custom', path: [key], message: `only applies to int8, not ${q.precision}` });
      }
    } else if (q.scheme === 'dynamic' && q.calibration !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['calibration'], message: 'dynamic int8 needs no calibration' });
    }
  });

const multiple = z
  .number({ invalid_type_error: 'must be a number' })
  .finite()
  .min(GENOME_LIMITS.multiple.min)
  .max(GENOME_LIMITS.multiple.max);

const stageMultiples = z
  .array(
    z
      .number({ invalid_type_error: 'must be a number' })
      .finite()
      .min(STAGE_MULTIPLE_LIMITS.min)
      .max(STAGE_MULTIPLE_LIMITS.max),
  )
  .length(STAGES.length, `needs one multiplier per stage (${STAGES.length})`);

export const genomeSchema = z
  .object({
    depthMultiple: multiple,
    widthMultiple: multiple,
    numClasses: z
      .number()
      .int()
      .min(GENOME_LIMITS.numClasses.min)
      .max(GENOME_LIMITS.numClasses.max)
      .default(80),
    imageSize: z
      .number()
      .int()
      .min(GENOME_LIMITS.imageSize.min)
      .max(GENOME_LIMITS.imageSize.max)
      .refine((v) => v % 32 === 0, 'must be a multiple of 32 (the largest stride)')
      .default(640),
    separable: z
      .array(
        z
          .number()
          .int()
          .refine((i) => SEPARABLE_ROWS.includes(i), {
            message: `is not a layer that can be separable; allowed: ${SEPARABLE_ROWS.join(', ')}`,
          }),
      )
      .refine((a) => new Set(a).size === a.length, 'has duplicate layer indices')
      .default([]),
    activation: z.enum(ACTIVATIONS).default('silu'),
    quantization: quantizationSchema.default({ precision: 'fp32' }),
    stageDepth: stageMultiples.optional(),
    stageWidth: stageMultiples.optional(),
  })
  .strict();

/** Validates a genome and fills defaults; throws DomainError naming the field. */
export function parseGenome(input: unknown): Genome {
  const result = genomeSchema.safeParse(input);
  if (!result.success) throw zodToDomainError(result.error, 'GENOME.INVALID', 'genome');
  const g = result.data;
  const quantization: Quantization =
    g.quantization.precision === 'int8'
      ? {
          precision: 'int8',
          scheme: g.quantization.scheme ?? 'static',
          granularity: g.quantization.granularity ?? 'per-channel',
          ...((g.quantization.scheme ?? 'static') === 'static'
            ? { calibration: g.quantization.calibration ?? 'minmax' }
            : {}),
        }
      : { precision: g.quantization.precision };
  const { stageDepth, stageWidth, ...rest } = g;
  // All ones is the plain genome: same key, same IR.
  const stages = (m: number[] | undefined) => (m && m.some((v) => v !== 1) ? m : undefined);
  return {
    ...rest,
    separable: [...g.separable].sort((a, b) => a - b),
    quantization,
    ...(stages(stageDepth) ? { stageDepth } : {}),
    ...(stages(stageWidth) ? { stageWidth } : {}),
  };
}

/** The row's depth and width multipliers: the global ones times its stage's. */
export function rowMultiples(g: Genome, row: number): { depth: number; width: number } {
  const k = stageOfRow(row);
  return {
    depth: g.depthMultiple * (k >= 0 ? (g.stageDepth?.[k] ?? 1) : 1),
    width: g.widthMultiple * (k >= 0 ? (g.stageWidth?.[k] ?? 1) : 1),
  };
}

/** A stable string key: two genomes with the same key build the same model. */
export function genomeKey(g: Genome): string {
  const q = g.quantization;
  return [
    `d${g.depthMultiple}`,
    `w${g.widthMultiple}`,
    `nc${g.numClasses}`,
    `i${g.imageSize}`,
    `s${g.separable.join('.')}`,
    g.activation,
    [q.precision, q.scheme, q.granularity, q.calibration].filter(Boolean).join('-'),
    ...(g.stageDepth ? [`sd${g.stageDepth.join('.')}`] : []),
    ...(g.stageWidth ? [`sw${g.stageWidth.join('.')}`] : []),
  ].join('|');
}

/** Formats zod issues as `field.path: message; ...` inside a DomainError. */
export function zodToDomainError(error: z.ZodError, code: string, subject: string): DomainError {
  const issues = flattenIssues(error.issues).map((i) => {
    const path = i.path.length
      ? i.path.map((p) => (typeof p === 'number' ? `[${p}]` : p)).join('.')
      : subject;
    const message =
      i.code === 'unrecognized_keys' ? `unknown key(s) ${i.keys.map((k) => `'${k}'`).join(', ')}` : i.message;
    return { field: path.replace(/\.\[/g, '['), message };
  });
  const first = issues[0];
  return new DomainError(
    code,
    issues.map((i) => `${i.field}: ${i.message}`).join('; '),
    first?.field,
    issues,
  );
}

/**
 * A union's own issue says only "Invalid input"; report instead what the most specific branch
 * said (the one that got deepest into the value), or "Required" when the value is missing.
 */
function flattenIssues(issues: z.ZodIssue[]): z.ZodIssue[] {
  return issues.flatMap((i) => {
    if (i.code !== 'invalid_union') return [i];
    const branches = i.unionErrors.map((e) => flattenIssues(e.issues));
    if (branches.every((b) => b.every((x) => x.code === 'invalid_type' && x.received === 'undefined')))
      return [{ ...i, message: 'Required' }];
    const depth = (b: z.ZodIssue[]) => Math.max(...b.map((x) => x.path.length));
    const deepest = branches.reduce((best, b) => (depth(b) > depth(best) ? b : best), branches[0]!);
    if (depth(deepest) > i.path.length) return deepest;
    const typeIssue = branches
      .flat()
      .find(
        (x) =>
          x.code === 'custom' ||
          x.code === 'invalid_enum_value' ||
          x.code === 'not_multiple_of' ||
          x.code === 'too_small' ||
          x.code === 'too_big',
      );
    return [typeIssue ? { ...typeIssue, path: i.path } : i];
  });
}

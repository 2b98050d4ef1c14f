import { z } from 'zod';
import { DomainError } from '@detsearch/common';
import { PRECISIONS, type Activation, zodToDomainError, type Precision } from '@detsearch/genome';

/**
 * Operator classes the predictor distinguishes. Each attains a different fraction of a device's
 * roofline: dense k x k convs are GEMM-like, 1x1 convs are GEMMs with little reuse at small channel
 * counts, depthwise convs have almost no reuse, and the rest only move data.
 */
export const OP_CLASSES = ['conv', 'depthwise', 'pointwise', 'elementwise', 'pooling'] as const;
export type OpClass = (typeof OP_CLASSES)[number];

/**
 * A datasheet profile states efficiencies as fractions of its roofline (<= 1, checked below). A
 * calibrated one may exceed 1 where the measured machine beats the stated peak: the `host` profile
 * describes whichever CPU the session lands on (a Zen 3 without VNNI one day, a Zen 4 with AVX-512
 * VNNI the next), and capping at 1 there biased every int8 prediction.
 */
export const MAX_CALIBRATED_EFFICIENCY = 16;
const efficiency = z
  .number({ invalid_type_error: 'must be a number' })
  .gt(0, 'must be > 0')
  .max(MAX_CALIBRATED_EFFICIENCY, `must be <= ${MAX_CALIBRATED_EFFICIENCY}`);
const efficiencySchema = z
  .object({
    conv: efficiency,
    depthwise: efficiency,
    pointwise: efficiency,
    elementwise: efficiency,
    pooling: efficiency,
  })
  .strict();
const overheadSchema = z
  .object({
    perOpUs: z.number().min(0, 'must be >= 0'),
    perInferenceUs: z.number().min(0, 'must be >= 0'),
  })
  .strict();
/**
 * What an activation costs beyond its conv: a number of elementwise passes that each read and write
 * the conv output at the op's precision, or explicit ops and bytes per output element (for graphs
 * where the runtime's nodes move data at another width, e.g. int8 Dequantize/Quantize round trips).
 */
const passes = z
  .union([
    z.number().int().min(0).max(8),
    z.object({ ops: z.number().int().min(0).max(8), bytesPerElement: z.number().min(0).max(64) }).strict(),
  ])
  .optional();
const activationPassesSchema = z
  .object({ silu: passes, relu: passes, hardswish: passes, leakyrelu: passes } satisfies Record<
    Activation,
    unknown
  >)
  .strict();
export type ActivationCost = NonNullable<z.infer<typeof passes>>;
const positive = z.number({ invalid_type_error: 'must be a number' }).positive('must be > 0');

const precisionOverrideSchema = z
  .object({
    efficiency: efficiencySchema.partial().optional(),
    overheadUs: overheadSchema.partial().optional(),
    activationPasses: activationPassesSchema.optional(),
  })
  .strict();

const nameSchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]*$/, 'must be lower-case letters, digits and dashes (the file name)');

export const hardwareProfileSchema = z
  .object({
    name: nameSchema,
    description: z.string().min(1),
    /** The hardware in words (SoC, cores, memory). */
    device: z.string().min(1),
    kind: z.enum(['cpu', 'gpu', 'npu']),
    /** What the numbers assume executes the model. */
    runtime: z
      .object({
        name: z.string().min(1),
        executionProvider: z.string().min(1),
        notes: z.string().optional(),
      })
      .strict(),
    cores: z.number().int().positive(),
    threads: z.number().int().positive(),
    precisions: z
      .array(z.enum(PRECISIONS))
      .min(1)
      .refine((a) => new Set(a).size === a.length, 'has duplicates'),
    /** Peak arithmetic throughput per precision in GFLOPS (GOPS for int8), at `threads`. */
    peakGops: z
      .object({ fp32: positive.optional(), fp16: positive.optional(), int8: positive.optional() })
      .strict(),
    /** Memory bandwidth the activations and weights stream through, GB/s. */
    memoryBandwidthGBs: positive,
    /**
     * Optional last-level cache: an operator whose bytes (inputs, weights, output) fit in it streams
     * at the cache's bandwidth instead (on a CPU, small models' activations never leave the L3).
     */
    cache: z.object({ bytes: z.number().int().positive(), bandwidthGBs: positive }).strict().optional(),
    /** Fraction of the roofline min(peak, intensity x bandwidth) each operator class attains. */
    efficiency: efficiencySchema,
    overheadUs: overheadSchema,
    /**
     * Extra elementwise work on a conv's output for activations the runtime does not fuse into the
     * conv (onnxruntime's CPU provider runs SiLU as one QuickGelu node: 1). Missing: fused (0).
     */
    activationPasses: activationPassesSchema.default({}),
    /** Per-precision replacements of efficiency, overhead (calibration writes these) and activation costs. */
    byPrecision: z
      .object({
        fp32: precisionOverrideSchema.optional(),
        fp16: precisionOverrideSchema.optional(),
        int8: precisionOverrideSchema.optional(),
      })
      .strict()
      .default({}),
    /** Present on profiles fitted from measurements. */
    calibration: z
      .object({
        fittedAt: z.string(),
        method: z.string(),
        samples: z.record(z.number().int().min(0)),
        rmsLogError: z.record(z.number().min(0)),
        notes: z.string().optional(),
      })
      .strict()
      .optional(),
  })
  .strict()
  .superRefine((p, ctx) => {
    for (const precision of p.precisions) {
      if (p.peakGops[precision] === undefined)
        ctx.addIssue({
          code: 'custom',
          path: ['peakGops', precision],
          message: `required: ${precision} is listed in precisions`,
        });
    }
    if (p.cache && p.cache.bandwidthGBs < p.memoryBandwidthGBs)
      ctx.addIssue({
        code: 'custom',
        path: ['cache', 'bandwidthGBs'],
        message: `must be at least memoryBandwidthGBs (${p.memoryBandwidthGBs})`,
      });
    if (!p.calibration) {
      const stated = [
        { path: ['efficiency'], e: p.efficiency },
        ...Object.entries(p.byPrecision).map(([k, o]) => ({
          path: ['byPrecision', k, 'efficiency'],
          e: o?.efficiency,
        })),
      ];
      for (const { path, e } of stated)
        for (const [c, v] of Object.entries(e ?? {}))
          if (v !== undefined && v > 1)
            ctx.addIssue({
              code: 'custom',
              path: [...path, c],
              message: 'must be <= 1 (a fraction of the roofline; only calibrated profiles may exceed it)',
            });
    }
    for (const precision of Object.keys(p.byPrecision) as Precision[]) {
      if (!p.precisions.includes(precision))
        ctx.addIssue({
          code: 'custom',
          path: ['byPrecision', precision],
          message: `${precision} is not in precisions (${p.precisions.join(', ')})`,
        });
    }
  });

export type HardwareProfile = z.infer<typeof hardwareProfileSchema>;
export type HardwareProfileInput = z.input<typeof hardwareProfileSchema>;
export type OpEfficiency = HardwareProfile['efficiency'];
export type OpOverhead = HardwareProfile['overheadUs'];

/** Validates a parsed profile document; `source` (a file name) prefixes every message. */
export function parseHardwareProfile(doc: unknown, source = 'hardware profile'): HardwareProfile {
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc))
    throw new DomainError('PROFILE.INVALID', `${source}: must be a mapping of profile fields`);
  const r = hardwareProfileSchema.safeParse(doc);
  if (!r.success) {
    const e = zodToDomainError(r.error, 'PROFILE.INVALID', 'profile');
    throw new DomainError(e.code, `${source}: ${e.message}`, e.field, e.details);
  }
  return r.data;
}

/** Efficiency and overhead in force for one precision (base values with the precision's overrides). */
export function effectiveParameters(
  profile: HardwareProfile,
  precision: Precision,
): {
  efficiency: OpEfficiency;
  overheadUs: OpOverhead;
  activationPasses: HardwareProfile['activationPasses'];
} {
  const o = profile.byPrecision[precision];
  return {
    efficiency: { ...profile.efficiency, ...o?.efficiency },
    overheadUs: { ...profile.overheadUs, ...o?.overheadUs },
    activationPasses: { ...profile.activationPasses, ...o?.activationPasses },
  };
}

export function assertPrecisionSupported(profile: HardwareProfile, precision: Precision): void {
  if (!profile.precisions.includes(precision))
    throw new DomainError(
      'LATENCY.UNSUPPORTED_PRECISION',
      `profile '${profile.name}' does not run ${precision}; supported: ${profile.precisions.join(', ')}`,
      'quantization.precision',
    );
}

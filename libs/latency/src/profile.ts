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

/** What a published time covers besides the network itself. */
export const FIGURE_INCLUDES = ['inference', 'preprocess', 'postprocess'] as const;
export type FigureIncludes = (typeof FIGURE_INCLUDES)[number];
export const PUBLISHED_MODELS = ['yolov5n', 'yolov5s', 'yolov5m', 'yolov5l', 'yolov5x'] as const;

/**
 * One published batch-1 latency of a detection CNN on the profile's device and runtime, with where
 * it comes from: the figures a profile is calibrated on and leave-one-out checked against.
 */
export const publishedFigureSchema = z
  .object({
    /** A YOLOv5 v6+ P5 model (80 classes, SiLU) that the genome table reproduces. */
    model: z.enum(PUBLISHED_MODELS),
    imageSize: z.number().int().min(32).max(4096),
    precision: z.enum(PRECISIONS),
    /** The published time per image, ms (FPS figures converted as 1000 / FPS). */
    ms: positiveNumber(),
    /** What the time covers: 'inference' always; pre/post-processing when the source says so. */
    includes: z
      .array(z.enum(FIGURE_INCLUDES))
      .min(1)
      .refine((a) => a.includes('inference'), 'must include inference'),
    runtime: z.string().min(1),
    /** The measured hardware when it differs in detail from the profile's (another carrier board, host). */
    device: z.string().optional(),
    source: z.string().min(1),
    url: z.string().url(),
    notes: z.string().optional(),
  })
  .strict();
export type PublishedFigure = z.infer<typeof publishedFigureSchema>;

function positiveNumber() {
  return z.number({ invalid_type_error: 'must be a number' }).positive('must be > 0');
}

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
    /**
     * The runtime's graph fusions beyond conv+BN+activation: TensorRT writes concatenated tensors in
     * place (no concat kernel) and fuses a residual add into the producing conv's epilogue.
     */
    fusion: z
      .object({
        concat: z.enum(['copy', 'in-place']).default('copy'),
        residualAdd: z.enum(['separate', 'fused']).default('separate'),
      })
      .strict()
      .default({}),
    /**
     * The convolution kernels' tile along output channels: a dense conv runs as an implicit GEMM whose
     * N (output channels) is covered in whole tiles, so 16 output channels on a 32-wide tile cost 32
     * ("tile quantization", NVIDIA's Matrix Multiplication Background guide). This is what makes a
     * narrow network (YOLOv5n) slower than its FLOPs on a GPU. Missing: no padding (CPU SIMD lanes are
     * narrower than any YOLOv5 layer).
     */
    channelTile: z.number().int().min(1).max(256).optional(),
    /**
     * Per-image work outside the network that published times may include: letterbox/normalize per
     * input megapixel and decode + NMS on the host. Prediction reports network time only; these are
     * added when comparing with a figure that includes them.
     */
    pipelineUs: z
      .object({
        preprocessPerMpixelUs: z.number().min(0).default(0),
        postprocessUs: z.number().min(0).default(0),
      })
      .strict()
      .default({}),
    /** Published batch-1 measurements on this device and runtime, each with its source. */
    publishedFigures: z.array(publishedFigureSchema).default([]),
    /** Why a profile has fewer than six figures (what was searched for and not found). */
    publishedFiguresNote: z.string().optional(),
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
        /** What the fit used: published figures, genomes measured on this host, or device measurements. */
        basis: z.enum(['published', 'host', 'device']).optional(),
        /** basis 'host': the CPU the measurements ran on (model name and ISA flags, see host.ts). */
        hostKey: z.string().optional(),
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

import { z } from 'zod';
import { DomainError } from '@detsearch/common';
import { OBJECTIVES, STRATEGY_NAMES } from '@detsearch/domain';
import { zodToDomainError } from '@detsearch/genome';
import {
  overrideSpec,
  quantizationFromCode,
  type QuantizationCode,
  type SearchSpaceOverride,
  type SearchSpaceSpec,
} from '@detsearch/search-space';
import type { HardwareProfile } from './profile';

const multipleOf32 = z.number().int().min(32).multipleOf(32, 'must be a multiple of 32');

export const presetSchema = z
  .object({
    name: z
      .string()
      .regex(/^[a-z0-9][a-z0-9-]*$/, 'must be lower-case letters, digits and dashes (the file name)'),
    description: z.string().min(1),
    hardwareProfile: z.string().min(1),
    /** Latency a candidate must meet on the profile (a constraint on predicted latency). */
    latencyBudgetMs: z.number().positive().optional(),
    /** Input sizes the deployment accepts; the search space's imageSize must lie inside. */
    imageSize: z
      .object({ min: multipleOf32, max: multipleOf32 })
      .strict()
      .refine((r) => r.min <= r.max, 'min must not exceed max'),
    objectives: z
      .array(z.enum(OBJECTIVES))
      .min(1)
      .refine((a) => new Set(a).size === a.length, 'has duplicates'),
    /** A search-space override (libs/search-space): fields replacing the default space's. */
    searchSpace: z.record(z.unknown()).default({}),
    strategy: z.enum(STRATEGY_NAMES),
    budget: z.object({ trials: z.number().int().positive() }).strict(),
    fidelity: z
      .object({
        epochs: z.number().int().positive(),
        minEpochs: z.number().int().positive().optional(),
        /** Training image size; absent: the genome's. */
        imageSize: multipleOf32.optional(),
        /** Image-size rungs: the training size of each ASHA rung segment (see SearchFidelity). */
        imageSizes: z.array(multipleOf32).min(1).optional(),
      })
      .strict()
      .refine((f) => f.minEpochs === undefined || f.minEpochs <= f.epochs, {
        message: 'minEpochs must not exceed epochs',
        path: ['minEpochs'],
      }),
  })
  .strict();

export type Preset = Omit<z.infer<typeof presetSchema>, 'searchSpace'> & { searchSpace: SearchSpaceOverride };

function presetError(source: string, field: string, message: string): DomainError {
  return new DomainError('PRESET.INVALID', `${source}: ${field}: ${message}`, field);
}

/** Image sizes a spec can produce, as [min, max]. */
function imageSizeBounds(spec: SearchSpaceSpec): [number, number] {
  const s = spec.imageSize;
  if (typeof s === 'number') return [s, s];
  if (s.type === 'int') return [s.low, s.high];
  return [s.values[0]!, s.values[s.values.length - 1]!];
}

function quantizationCodes(spec: SearchSpaceSpec): QuantizationCode[] {
  const q = spec.quantization;
  return typeof q === 'string' ? [q] : q.choices;
}

/**
 * Validates a parsed preset document: its fields, its search-space override against `base`
 * (the default search space), and that the resulting image sizes lie in the preset's range.
 * With `profile`, also that every precision the space can produce runs on that profile.
 */
export function parsePreset(
  doc: unknown,
  base: SearchSpaceSpec,
  source = 'preset',
  profile?: HardwareProfile,
): Preset {
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc))
    throw new DomainError('PRESET.INVALID', `${source}: must be a mapping of preset fields`);
  const r = presetSchema.safeParse(doc);
  if (!r.success) {
    const e = zodToDomainError(r.error, 'PRESET.INVALID', 'preset');
    throw new DomainError(e.code, `${source}: ${e.message}`, e.field, e.details);
  }
  const preset = r.data as Preset;
  const spec = presetSearchSpace(preset, base, source);
  const [lo, hi] = imageSizeBounds(spec);
  if (lo < preset.imageSize.min || hi > preset.imageSize.max)
    throw presetError(
      source,
      'searchSpace.imageSize',
      `sizes ${lo}-${hi} fall outside imageSize ${preset.imageSize.min}-${preset.imageSize.max}`,
    );
  if (profile) {
    if (profile.name !== preset.hardwareProfile)
      throw presetError(
        source,
        'hardwareProfile',
        `expected '${preset.hardwareProfile}', got '${profile.name}'`,
      );
    for (const code of quantizationCodes(spec)) {
      const precision = quantizationFromCode(code).precision;
      if (!profile.precisions.includes(precision))
        throw presetError(
          source,
          'searchSpace.quantization',
          `'${code}' is ${precision}, which profile '${profile.name}' does not run (supported: ${profile.precisions.join(', ')})`,
        );
    }
  }
  return preset;
}

/** The preset's search space: the default space with the preset's override applied and validated. */
export function presetSearchSpace(
  preset: Preset,
  base: SearchSpaceSpec,
  source = `preset '${preset.name}'`,
): SearchSpaceSpec {
  return overrideSpec(base, { name: preset.name, ...preset.searchSpace }, `${source}: searchSpace`);
}

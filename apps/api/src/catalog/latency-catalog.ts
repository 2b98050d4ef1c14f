import { DomainError, isDomainError } from '@detsearch/common';
import { buildCatalog, type Catalog, type EvaluatorInfo } from '@detsearch/domain';
import { getPreset, loadHardwareProfiles, loadPresets } from '@detsearch/latency';
import type { CatalogPort } from './catalog.port';

/**
 * Presets and profiles straight from the YAML files (small; read per request so edits and fitted
 * profiles show without a restart).
 */
export class LatencyCatalog implements CatalogPort {
  catalog(evaluators: EvaluatorInfo[]): Catalog {
    return buildCatalog({
      evaluators,
      presets: loadPresets().map((p) => ({
        ...p,
        syntheticData: (p as { dataset?: unknown }).dataset === undefined,
      })),
      hardwareProfiles: loadHardwareProfiles(),
    });
  }

  presets(): unknown[] {
    return loadPresets();
  }

  preset(name: string): unknown {
    try {
      return getPreset(name);
    } catch (err) {
      // In a body an unknown preset is bad input (400); as a path it is a missing resource.
      if (isDomainError(err) && err.code === 'PRESET.UNKNOWN')
        throw new DomainError('PRESET.NOT_FOUND', err.message, 'name');
      throw err;
    }
  }

  hardwareProfiles(): unknown[] {
    return loadHardwareProfiles();
  }
}

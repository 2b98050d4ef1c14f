import { createHash } from 'node:crypto';
import { constraintVector, objectiveVector } from '@detsearch/domain';
import { buildIR, genomeKey } from '@detsearch/genome';
import { predictLatency, predictedProvenance, type HardwareProfile } from '@detsearch/latency';
import type {
  Database,
  ReusedTrial,
  Search,
  SearchRepository,
  TrialRepository,
} from '@detsearch/persistence';
import type { CompiledSearchSpace } from '@detsearch/search-space';
import { supernetAdaptSteps } from './launch';
import { canonicalJson, datasetFingerprint } from './supernets/fingerprint';

/**
 * What a trial's accuracy depends on, and nothing else: the evaluator (a surrogate's mAP is not a
 * trained model's), the dataset's content (its fingerprint: data.yaml and the files' names and
 * sizes; 'synthetic' for the deployment's generated data), the training fidelity (epochs, training
 * image size, image-size rungs), the class count, and the supernet (and its adaptation steps) when one scores the trials. The hardware profile
 * is left out on purpose: only latency depends on it, and latency is recomputed per search.
 */
export function warmStartKey(
  search: Search,
  fingerprint: (dataYaml: string) => string = datasetFingerprint,
): string {
  const parts = {
    evaluator: search.evaluator,
    dataset: search.dataset ? fingerprint(search.dataset) : 'synthetic',
    numClasses: (search.searchSpace as { numClasses?: number }).numClasses ?? null,
    epochs: search.fidelity.epochs,
    imageSize: search.fidelity.imageSize ?? null,
    // Trials trained through smaller sizes first end elsewhere than trials trained at one size.
    imageSizes: search.fidelity.imageSizes ?? null,
    supernetId: search.evaluator === 'supernet' ? search.supernetId : null,
    // An estimate after k adaptation steps is another number than the weights as sliced.
    ...(search.evaluator === 'supernet' ? { adaptSteps: supernetAdaptSteps(search.request) } : {}),
  };
  return `warm:${createHash('sha256').update(canonicalJson(parts)).digest('hex')}`;
}

/** Warm starts are on unless the launch body said `warmStart: false`. */
export function warmStartEnabled(search: Search): boolean {
  return search.request.warmStart !== false;
}

export interface WarmStartDeps {
  db: Database;
  searches: SearchRepository;
  trials: TrialRepository;
  space: CompiledSearchSpace;
  profile: HardwareProfile;
  /** Default: the dataset fingerprint of fingerprint.ts. */
  fingerprint?: (dataYaml: string) => string;
}

/**
 * Records the search's warm-start key and, when warm starts are on, copies every earlier
 * completed evaluation with the same key whose genome this search's space can express (one per
 * genome) in as completed trials marked `reused`: mAP and training curves as they were, latency
 * predicted for this search's profile (kept as stored when it was stored for the same profile),
 * objectives and constraints computed for this search. They are numbered first, so the strategy is
 * told them before its first ask, and `reusedTrials` keeps them out of the budget. Runs once, on
 * the first start (a search that has trials or a key already is returned as it is).
 */
export async function warmStart(search: Search, deps: WarmStartDeps): Promise<Search> {
  if (search.warmStartKey !== null) return search;
  const key = warmStartKey(search, deps.fingerprint);
  const { trials, searches, space, profile } = deps;
  return deps.db.transaction(
    async (tx) => {
      if ((await trials.nextNumber(search.id, tx)) > 0)
        return (await searches.setWarmStart(search.id, key, search.reusedTrials, tx)) ?? search;
      const sources = warmStartEnabled(search) ? await trials.warmStartSources(key, search.id, tx) : [];
      const rows: ReusedTrial[] = [];
      for (const { trial: src, hardwareProfile } of sources) {
        let params;
        try {
          params = space.encode(src.genome);
          // Only genomes this space expresses exactly: the strategy must see them as its own points.
          if (genomeKey(space.decode(params)) !== src.genomeKey) continue;
        } catch {
          continue;
        }
        const sameProfile = hardwareProfile === profile.name && src.latencyMs !== null;
        const latencyMs = sameProfile
          ? src.latencyMs!
          : predictLatency(buildIR(src.genome), profile).predictedMs;
        const inputs = {
          map50_95: src.map50_95,
          latencyMs,
          sizeBytes: src.sizeBytes,
          params: src.params,
          gflops: src.gflops,
        };
        rows.push({
          sourceId: src.id,
          number: rows.length,
          searchParams: params,
          latencyMs,
          latencyPerProfile: { ...src.latencyPerProfile, [profile.name]: latencyMs },
          latencySource: sameProfile ? src.latencySource : 'predicted',
          latencyProvenance: sameProfile ? src.latencyProvenance : predictedProvenance(profile),
          objectiveValues: objectiveVector(search.objectives, inputs),
          constraintValues: constraintVector(search.constraints, inputs),
        });
      }
      const inserted = await trials.insertReused(search.id, rows, tx);
      if (inserted.length > 0) {
        await trials.recomputeFront(search.id, tx);
        await searches.setBest(search.id, await trials.bestSoFar(search.id, tx), tx);
      }
      return (await searches.setWarmStart(search.id, key, inserted.length, tx)) ?? search;
    },
    { retries: 3 },
  );
}

import { genomeKey, type Genome } from '@detsearch/genome';
import { join } from 'node:path';
import { calibrateToDevice, getHardwareProfile, measureGenomes, saveProfile } from '@detsearch/latency';
import type {
  Database,
  LatencyMeasurement,
  MeasurementRepository,
  TrialRepository,
} from '@detsearch/persistence';
import { DomainError } from '@detsearch/common';
import type { PgBossQueue } from './pg-boss-queue';

export interface MeasureSettings {
  /** Timed onnxruntime runs per model (default 20). */
  runs?: number;
  warmup?: number;
  /** Intra-op threads (default: the hardware profile's). */
  threads?: number;
  /**
   * This device's DETSEARCH_HOME: after each measurement the profile is refitted to all of its
   * finished measurements and written to <home>/profiles/<profile>.yaml, which predictions here use.
   */
  calibrationHome?: string;
  /** Finished measurements needed before the first refit (default 3). */
  minCalibrationSamples?: number;
}

/**
 * Feeds a device's measurements back into its profile: the built-in profile (fitted to its
 * published figures) refitted to every finished measurement of `profile`, saved under `home`.
 * Returns null while there are fewer than `minSamples`.
 */
export async function recalibrateFromMeasurements(
  measurements: MeasurementRepository,
  profile: string,
  home: string,
  minSamples = 3,
): Promise<{ path: string; samples: number } | null> {
  const samples = await measurements.samples(profile);
  if (samples.length < minSamples) return null;
  const fitted = calibrateToDevice(getHardwareProfile(profile, { fittedDir: null }), samples, {
    source: 'detsearch worker --measure-only',
  });
  return { path: saveProfile(fitted, join(home, 'profiles', `${profile}.yaml`)), samples: samples.length };
}

/**
 * Asks the `--measure-only` workers of `profile` to measure genomes: one row and one pg-boss
 * job each, committed together.
 */
export async function requestMeasurements(
  db: Database,
  measurements: MeasurementRepository,
  queue: PgBossQueue,
  profile: string,
  items: { genome: Genome; trialId?: string | null }[],
): Promise<LatencyMeasurement[]> {
  return db.transaction(async (tx) => {
    const rows = await measurements.request(
      items.map((i) => ({
        profile,
        genome: i.genome,
        genomeKey: genomeKey(i.genome),
        trialId: i.trialId ?? null,
      })),
      tx,
    );
    await queue.sendMeasurements(tx, rows);
    return rows;
  });
}

/** The trials of a search worth measuring on a device: its Pareto front, or every completed one. */
export async function trialsToMeasure(
  trials: TrialRepository,
  searchId: string,
  which: 'pareto' | 'completed',
  limit?: number,
): Promise<{ genome: Genome; trialId: string }[]> {
  const rows =
    which === 'pareto'
      ? await trials.pareto(searchId)
      : (await trials.list(searchId, { status: 'completed', sort: '-map50_95', limit: limit ?? 1000 })).items;
  if (rows.length === 0)
    throw new DomainError(
      'MEASUREMENT.NOTHING_TO_MEASURE',
      `search ${searchId} has no ${which === 'pareto' ? 'Pareto-front' : 'completed'} trials to measure`,
      'searchId',
    );
  return rows.slice(0, limit ?? rows.length).map((t) => ({ genome: t.genome, trialId: t.id }));
}

/**
 * A device worker's job: export the genome to ONNX here (random weights: latency does not depend
 * on their values) at its precision, time it with onnxruntime, store the result under the claim.
 */
export async function runMeasurement(
  measurements: MeasurementRepository,
  id: string,
  workerId: string,
  settings: MeasureSettings & { threads: number },
): Promise<'done' | 'failed' | 'not-claimed'> {
  const m = await measurements.claim(id, workerId);
  if (!m) return 'not-claimed';
  try {
    const runs = settings.runs ?? 20;
    const [r] = await measureGenomes([m.genome], {
      runs,
      warmup: settings.warmup ?? 3,
      threads: settings.threads,
    });
    const ok = await measurements.finish(id, workerId, {
      medianMs: r!.medianMs,
      p90Ms: r!.p90Ms,
      runs,
      threads: settings.threads,
      onnxBytes: r!.onnxBytes,
    });
    return ok ? 'done' : 'not-claimed';
  } catch (err) {
    await measurements.fail(id, workerId, err instanceof Error ? err.message : String(err));
    return 'failed';
  }
}

import { putFile, trialArtifactKey, type ArtifactStore } from '@detsearch/artifacts';
import type { Search, Trial, TrialRepository } from '@detsearch/persistence';
import {
  canFineTune,
  type FineTuneMetrics,
  type FineTuningEvaluator,
  type SearchEvent,
  type TrialEvaluator,
} from './types';

export interface FinalStageDeps {
  search: Search;
  evaluator: TrialEvaluator;
  trials: TrialRepository;
  signal: AbortSignal;
  publish(e: SearchEvent): Promise<void> | void;
  /** The fine-tuned model goes here and its key replaces the trial's model key. */
  artifacts?: ArtifactStore;
  /** Finalists fine-tuned at once (default 1): each trains in a process of its own, one core. */
  concurrency?: number;
  log?: (msg: string, extra?: Record<string, unknown>) => void;
}

/** Mean and (sample) standard deviation; the deviation is null for a single value. */
export function meanAndSpread(values: number[]): { mean: number; std: number | null } {
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  if (values.length < 2) return { mean, std: null };
  const variance = values.reduce((a, v) => a + (v - mean) ** 2, 0) / (values.length - 1);
  return { mean, std: Math.sqrt(variance) };
}

/**
 * The front's best `k` distinct genomes by mAP@0.5:0.95 (ties: the lower latency, then the earlier
 * trial): a genome on the front twice (a reused trial and its repeat) is fine-tuned once.
 */
export function finalists(front: Trial[], k: number): Trial[] {
  const seen = new Set<string>();
  return [...front]
    .sort(
      (a, b) =>
        (b.map50_95 ?? 0) - (a.map50_95 ?? 0) ||
        (a.latencyMs ?? Infinity) - (b.latencyMs ?? Infinity) ||
        a.number - b.number,
    )
    .filter((t) => !seen.has(t.genomeKey) && seen.add(t.genomeKey))
    .slice(0, Math.max(0, k));
}

/**
 * The final stage of a two-stage search, after its budget: the Pareto front's top K are
 * fine-tuned with the full trainer from their inherited weights for E epochs (over 1 or 2 seeds)
 * and scored again as deployed; both numbers are stored on the trial and the fine-tuned model
 * replaces the exported one. `concurrency` finalists at a time (the search's trial concurrency).
 * Trials already fine-tuned with these settings (a resumed search) are skipped; a failed fine-tune
 * is reported and the others go on.
 */
export async function runFinalStage(d: FinalStageDeps): Promise<void> {
  const settings = d.search.fineTune;
  const evaluator = d.evaluator;
  if (!settings || settings.topK <= 0 || !canFineTune(evaluator)) return;
  const chosen = finalists(await d.trials.pareto(d.search.id), settings.topK);
  let next = 0;
  const lane = async () => {
    while (next < chosen.length) {
      const i = next++;
      await fineTuneOne(d, evaluator, settings, chosen[i]!, i, chosen.length);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(d.concurrency ?? 1, chosen.length)) }, lane));
}

async function fineTuneOne(
  d: FinalStageDeps,
  evaluator: FineTuningEvaluator,
  settings: NonNullable<Search['fineTune']>,
  t: Trial,
  i: number,
  of: number,
): Promise<void> {
  if (d.signal.aborted) return;
  if (t.finetuneSeeds === settings.seeds && t.finetuneEpochs === settings.epochs) return;
  const base = {
    type: 'fine-tune' as const,
    searchId: d.search.id,
    trialId: t.id,
    number: t.number,
    index: i + 1,
    of,
    estimateMap50_95: t.estimateMap50_95 ?? t.map50_95,
  };
  await d.publish({ ...base, phase: 'started', finetunedMap50_95: null });
  try {
    const runs: FineTuneMetrics[] = [];
    for (let s = 0; s < settings.seeds; s++)
      runs.push(
        await evaluator.fineTune(
          {
            trialId: t.id,
            searchId: d.search.id,
            genome: t.genome,
            fidelity: { epochs: settings.epochs },
            hardwareProfile: d.search.hardwareProfile,
            ...(d.search.dataset ? { dataset: d.search.dataset } : {}),
            epochs: settings.epochs,
            seed: d.search.seed + s,
          },
          { signal: d.signal },
        ),
      );
    const m50 = meanAndSpread(runs.map((r) => r.map50));
    const m5095 = meanAndSpread(runs.map((r) => r.map50_95));
    const seconds = runs.reduce((a, r) => a + (r.seconds ?? 0), 0);
    const tuned = runs[0]!.onnxPath;
    let modelKey: string | null = null;
    if (tuned && d.artifacts) {
      const precision = t.genome.quantization?.precision ?? 'fp32';
      modelKey = trialArtifactKey(d.search.id, t.id, t.attempts, `finetuned-model-${precision}.onnx`);
      await putFile(d.artifacts, modelKey, tuned);
    }
    await d.trials.recordFineTune(t.id, {
      finetunedMap50: m50.mean,
      finetunedMap50_95: m5095.mean,
      finetunedMap50Std: m50.std,
      finetunedMap50_95Std: m5095.std,
      finetuneEpochs: settings.epochs,
      finetuneSeeds: settings.seeds,
      ...(modelKey ? { modelKey, onnxPath: null } : { onnxPath: tuned ?? null }),
      notes:
        `fine-tuned ${settings.epochs} epochs x ${settings.seeds} seed(s) from inherited weights in ` +
        `${seconds.toFixed(0)} s: mAP@.5:.95 ${m5095.mean.toFixed(4)}` +
        (m5095.std !== null ? ` +- ${m5095.std.toFixed(4)}` : '') +
        ` (estimate ${(t.estimateMap50_95 ?? t.map50_95 ?? 0).toFixed(4)})`,
    });
    await d.publish({ ...base, phase: 'completed', finetunedMap50_95: m5095.mean });
  } catch (err) {
    if (d.signal.aborted) return;
    const error = err instanceof Error ? err.message : String(err);
    d.log?.('fine-tune failed', { trialId: t.id, error });
    await d.publish({ ...base, phase: 'failed', finetunedMap50_95: null, error });
  }
}

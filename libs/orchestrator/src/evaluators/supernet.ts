import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { EvaluatorDefinition } from '@detsearch/domain';
import { DomainError } from '@detsearch/common';
import type { SearchRepository, Supernet } from '@detsearch/persistence';
import { sharedSyntheticDataset, type SyntheticDatasetOptions, DEFAULT_SYNTHETIC } from './full';
import { requestedSupernetMinutes, supernetAdaptSteps } from '../launch';
import type { SupernetService } from '../supernets/supernet-service';
import type {
  EstimatedMetrics,
  EvaluationContext,
  EvaluationRequest,
  FineTuneMetrics,
  FineTuneRequest,
  FineTuningEvaluator,
  SearchPreparation,
} from '../types';

type SupernetLib = typeof import('@detsearch/supernet');
type Training = typeof import('@detsearch/training');

export interface SupernetEvaluatorOptions {
  service: SupernetService;
  searches: SearchRepository;
  synthetic?: SyntheticDatasetOptions;
  /** Replaceable for tests of the evaluator's plumbing; default the real libraries, loaded lazily. */
  loadSupernet?: () => Promise<Pick<SupernetLib, 'scoreCandidate' | 'CandidateScorerPool'>>;
  loadTraining?: () => Promise<Pick<Training, 'runTrial' | 'synthDataset'>>;
}

/** File name of a trial's inherited (extracted, BatchNorm-recalibrated) weights: the final stage starts there. */
export const INHERITED_WEIGHTS = 'inherited.weights';

/**
 * Two-stage evaluation: a weight-sharing supernet is found (same dataset, space and activation)
 * or trained before the search's first trial; each candidate then takes its weights from it
 * (no training of its own), is exported at its precision and scored as deployed with
 * onnxruntime, in seconds. The mAP is stored as the supernet's estimate; the search's final stage
 * fine-tunes the front's best from these inherited weights with the full trainer (fineTune).
 */
export class SupernetEvaluator implements FineTuningEvaluator {
  readonly name = 'supernet';
  /** An estimate is a function of the genome and the supernet: scoring one again repeats it. */
  readonly repeatable = true;
  private readonly prepared = new Map<string, { supernet: Supernet; adaptSteps: number }>();
  /**
   * Long-lived scoring processes per search prepared here (the supernet and data stay loaded in
   * each): one per trial in flight, so a search evaluating two at once scores on two cores.
   */
  private readonly scorers = new Map<string, ReturnType<SupernetLib['CandidateScorerPool']['open']>>();

  constructor(private readonly o: SupernetEvaluatorOptions) {}

  private get home(): string {
    return this.o.service.home;
  }

  /**
   * Before the first trial: the search's own supernet (supernetId), else the ready one of its
   * dataset, space and activation, else one trained now; progress goes to the search's events.
   */
  async prepare(p: SearchPreparation): Promise<void> {
    const { service } = this.o;
    const search = await this.o.searches.get(p.searchId);
    if (!search) throw new Error(`search ${p.searchId} not found`);
    const minutes = requestedSupernetMinutes(search.request);
    let supernet = search.supernetId
      ? await service.resume(search.supernetId, { minutes, seed: search.seed })
      : await service.train(service.resolveForSearch(search), { minutes, seed: search.seed });
    if (search.supernetId !== supernet.id) await this.o.searches.setSupernet(search.id, supernet.id);
    const report = (s: Supernet) =>
      p.onProgress({
        message:
          s.status === 'ready'
            ? `supernet ${s.id} ready (${s.epochs.toFixed(2)} epochs, ${s.minutes.toFixed(1)} min)`
            : `supernet ${s.id} ${s.status}: ${s.progress?.message ?? 'starting'}` +
              (s.progress?.etaSeconds != null ? `, ETA ${s.progress.etaSeconds}s` : ''),
        ...(s.status === 'ready' ? { fraction: 1 } : s.progress ? { fraction: s.progress.fraction } : {}),
      });
    report(supernet);
    supernet = await service.waitReady(supernet, { signal: p.signal, onProgress: report });
    report(supernet);
    this.prepared.set(search.id, { supernet, adaptSteps: supernetAdaptSteps(search.request) });
    const lib = await this.lib();
    this.scorers.set(search.id, lib.CandidateScorerPool.open());
  }

  async dispose(search: { searchId: string }): Promise<void> {
    this.prepared.delete(search.searchId);
    const scorer = this.scorers.get(search.searchId);
    this.scorers.delete(search.searchId);
    await scorer?.close();
  }

  private lib() {
    return (this.o.loadSupernet ?? (() => import('@detsearch/supernet')))();
  }

  /** The search's supernet and its candidates' adaptation steps. */
  private async settingsFor(req: EvaluationRequest): Promise<{ supernet: Supernet; adaptSteps: number }> {
    const local = this.prepared.get(req.searchId);
    if (local) return local;
    // Another process (a worker): the search's runner found or trained it and recorded its id.
    const search = await this.o.searches.get(req.searchId);
    if (!search?.supernetId) throw new Error(`search ${req.searchId} has no supernet yet`);
    return {
      supernet: await this.o.service.get(search.supernetId),
      adaptSteps: supernetAdaptSteps(search.request),
    };
  }

  private async dataset(req: EvaluationRequest) {
    const dataRoot = this.o.service.dataRoot;
    if (req.dataset) return { dataYaml: resolve(req.dataset), ...(dataRoot ? { dataRoot } : {}) };
    const training = await (this.o.loadTraining ?? (() => import('@detsearch/training')))();
    return {
      dataYaml: await sharedSyntheticDataset(training, this.home, this.o.synthetic ?? DEFAULT_SYNTHETIC),
      dataRoot: join(this.home, 'datasets'),
    };
  }

  private trialDir(req: EvaluationRequest): string {
    return join(this.home, 'trials', req.searchId, req.trialId);
  }

  async evaluate(req: EvaluationRequest, ctx: EvaluationContext): Promise<EstimatedMetrics> {
    const { supernet, adaptSteps } = await this.settingsFor(req);
    const dir = this.trialDir(req);
    mkdirSync(dir, { recursive: true });
    const options = {
      supernetPath: await this.o.service.weightsPath(supernet),
      genome: req.genome,
      dataset: await this.dataset(req),
      hardwareProfile: req.hardwareProfile,
      outDir: join(dir, 'estimate'),
      adaptSteps,
    };
    const scorer = this.scorers.get(req.searchId);
    const r = scorer
      ? await scorer.score(options)
      : await (await this.lib()).scoreCandidate({ ...options, signal: ctx.signal });
    // Kept under a fixed name: the final stage fine-tunes from it, in whichever process runs it.
    copyFileSync(r.weightsPath, join(dir, INHERITED_WEIGHTS));
    return {
      map50: r.map50,
      map50_95: r.map50_95,
      fp32Map50_95: r.fp32Map50_95,
      latencyMs: r.latencyMs,
      measuredLatencyMs: r.measuredLatencyMs,
      params: r.params,
      gflops: r.gflops,
      sizeBytes: r.sizeBytes,
      backend: 'supernet',
      epochs: [],
      onnxPath: r.onnxPath,
      // The inherited weights: what the final stage fine-tunes from (kept locally too, under a fixed name).
      weightsPath: r.weightsPath,
      estimate: true,
      notes:
        `supernet estimate: weights inherited from supernet ${supernet.id} (${supernet.epochs} epochs, ` +
        `${supernet.minutes.toFixed(1)} min)` +
        (adaptSteps ? `, ${adaptSteps} adaptation steps` : '') +
        `, BatchNorm recalibrated, scored as deployed in ${r.seconds.toFixed(1)} s`,
    };
  }

  /** Fine-tunes the trial's inherited weights with the full trainer (a child process) and scores the result. */
  async fineTune(req: FineTuneRequest, ctx: { signal: AbortSignal }): Promise<FineTuneMetrics> {
    const training = await (this.o.loadTraining ?? (() => import('@detsearch/training')))();
    const dir = this.trialDir(req);
    const inherited = join(dir, INHERITED_WEIGHTS);
    if (!existsSync(inherited)) await this.evaluate(req, { signal: ctx.signal, onEpoch: () => 'continue' });
    const result = await training.runTrial(
      {
        genome: req.genome,
        dataset: await this.dataset(req),
        epochs: req.epochs,
        initialWeights: inherited,
        hardwareProfile: req.hardwareProfile,
        seed: req.seed,
        outDir: join(dir, `finetune-s${req.seed}`),
      },
      { signal: ctx.signal },
    );
    return {
      map50: result.map50,
      map50_95: result.map50_95,
      onnxPath: result.onnxPath,
      seconds: result.seconds.total,
    };
  }
}

/**
 * The registry's entry. Its evaluator needs the process's database and DETSEARCH_HOME, so the
 * orchestrator registers the working loader; elsewhere asking for it says so.
 */
export const supernetEvaluator: EvaluatorDefinition = {
  name: 'supernet',
  label: 'Supernet estimate, then fine-tune',
  description:
    'Scores each candidate with weights inherited from a weight-sharing supernet (trained once per dataset, ' +
    'search space and activation; BatchNorm recalibrated, exported and scored as deployed), then fine-tunes ' +
    "the front's best with the full trainer.",
  trains: true,
  analytic: false,
  load: () => {
    throw new DomainError(
      'EVALUATOR.UNAVAILABLE',
      "evaluator: 'supernet' needs a search orchestrator's database (open one with SearchOrchestrator.open)",
      'evaluator',
    );
  },
};

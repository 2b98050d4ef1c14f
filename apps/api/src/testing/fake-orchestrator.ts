import { createHash } from 'node:crypto';
import { createReadStream, readFileSync } from 'node:fs';
import { DomainError } from '@detsearch/common';
import type { ListTrialsQuery, TrialPage } from '@detsearch/persistence';
import {
  evaluatorInfos,
  type EvaluatorInfo,
  type SearchArtifactsView,
  type SearchEvent,
  type TrialModelDownload,
} from '@detsearch/orchestrator';
import type { OrchestratorPort } from '../orchestrator.port';

type Port = OrchestratorPort;
type Returned<K extends keyof Port> = Awaited<ReturnType<Port[K]>>;
/** Fixture objects carry only the fields the specs look at. */
const fixture = <T>(value: object): T => value as T;

/**
 * An orchestrator without a database: records what the API passed it, answers with fixed data,
 * and raises the domain errors the real one raises. For controller specs and for writing the
 * OpenAPI document.
 */
/** The UUID the fake gives its n-th search ('s') or trial ('t'), e.g. 00000000-0000-4000-8000-5000000000001. */
export function fakeId(kind: 's' | 't', n: number): string {
  return `00000000-0000-4000-8000-${kind === 's' ? '5' : '7'}${String(n).padStart(11, '0')}`;
}

/** n of fakeId(kind, n), or NaN for any other id. */
function fakeNumber(kind: 's' | 't', id: string): number {
  const m = /^00000000-0000-4000-8000-([57])(\d{11})$/.exec(id);
  return m && m[1] === (kind === 's' ? '5' : '7') ? Number(m[2]) : NaN;
}

export class FakeOrchestrator implements OrchestratorPort {
  readonly created: unknown[] = [];
  readonly trialQueries: unknown[] = [];
  closed = false;

  async createSearch(body: unknown): Promise<{ id: string; status: string }> {
    const b = body as { preset?: string; evaluator?: string };
    // Evaluators are a registry behind the orchestrator; the fake knows the built-in two.
    if (b.evaluator !== undefined && !['full', 'surrogate'].includes(b.evaluator))
      throw new DomainError('EVALUATOR.UNKNOWN', `unknown evaluator '${b.evaluator}'`, 'evaluator');
    if (b.preset === 'no-such-preset')
      throw new DomainError('SEARCH.UNKNOWN_PRESET', `unknown preset 'no-such-preset'`, 'preset');
    this.created.push(body);
    return { id: fakeId('s', this.created.length), status: 'queued' };
  }
  async estimateSearch(body: unknown): Promise<Returned<'estimateSearch'>> {
    const b = body as { preset?: string; budget?: { trials?: number } };
    if (b.preset === 'no-such-preset')
      throw new DomainError('SEARCH.UNKNOWN_PRESET', `unknown preset 'no-such-preset'`, 'preset');
    const trials = b.budget?.trials ?? 8;
    return {
      seconds: trials * 60,
      perTrialSeconds: 60,
      trials,
      basis: 'fixed answer of the fake orchestrator',
      maxSeconds: trials * 90,
      perEpochSeconds: 30,
      expectedEpochs: 1.5,
      parallel: 1,
      typicalGflops: 0.1,
      evaluator: 'full',
      dataset: { synthetic: true },
    };
  }
  async listSearches(): Promise<Returned<'listSearches'>> {
    const progress = {
      total: 3,
      queued: 0,
      running: 1,
      completed: 2,
      pruned: 0,
      failed: 0,
      budget: 3,
      fraction: 2 / 3,
    };
    return this.created.map((_, i) => fixture({ id: fakeId('s', i + 1), status: 'running', progress }));
  }
  async getSearch(id: string): Promise<Returned<'getSearch'>> {
    return fixture(this.search(id));
  }
  async cancel(id: string): Promise<Returned<'cancel'>> {
    this.search(id);
    throw new DomainError('SEARCH.CONFLICT_STATE', `search ${id} already ended`);
  }
  async resume(id: string): Promise<Returned<'resume'>> {
    return fixture({ ...this.search(id), status: 'running' });
  }
  async listTrials(id: string, query: ListTrialsQuery): Promise<Returned<'listTrials'>> {
    return this.emptyPage(id, { ...query, view: 'full' });
  }
  async leaderboard(id: string, query: ListTrialsQuery): Promise<Returned<'leaderboard'>> {
    return this.emptyPage(id, query);
  }
  private emptyPage(id: string, query: ListTrialsQuery & { view?: string }): TrialPage<never> {
    this.search(id);
    this.trialQueries.push(query);
    return { total: 0, items: [], limit: query.limit ?? 50, offset: query.offset ?? 0, nextCursor: null };
  }
  async pareto(id: string): Promise<Returned<'pareto'>> {
    this.search(id);
    return { searchId: id, objectives: ['map50_95', 'latency'], considered: 0, points: [] };
  }
  async paretoCsv(id: string): Promise<string> {
    this.search(id);
    return 'trialId,map50_95,latencyMs\n';
  }
  async hypervolume(id: string): Promise<Returned<'hypervolume'>> {
    this.search(id);
    return { searchId: id, referenceLatencyMs: null, completed: 0, steps: [] };
  }
  async plotTrials(id: string): Promise<Returned<'plotTrials'>> {
    this.search(id);
    return {
      searchId: id,
      total: 0,
      sampled: false,
      asOf: new Date(0).toISOString(),
      finishedAfter: null,
      items: [],
      dimensions: [],
      importance: { objective: 'map50_95', method: 'none', trials: 0, dimensions: [] },
    };
  }
  async curves(id: string): Promise<Returned<'curves'>> {
    this.search(id);
    return { searchId: id, items: [] };
  }
  async trialCurves(id: string): Promise<Returned<'trialCurves'>> {
    throw new DomainError('TRIAL.NOT_FOUND', `no trial '${id}'`, 'id');
  }
  readonly deleted: string[] = [];
  async deleteSearch(id: string): Promise<void> {
    this.search(id);
    this.deleted.push(id);
  }
  async getTrial(id: string): Promise<Returned<'getTrial'>> {
    throw new DomainError('TRIAL.NOT_FOUND', `no trial '${id}'`, 'id');
  }
  /** Trial id -> model file, for the model download route. */
  readonly models = new Map<string, string>();

  async openTrialModel(id: string): Promise<TrialModelDownload> {
    const path = this.models.get(id);
    if (!path) throw new DomainError('TRIAL.NOT_FOUND', `no trial '${id}'`, 'id');
    const bytes = readFileSync(path);
    return {
      key: `searches/s/trials/${id}/a1/model-fp32.onnx`,
      size: bytes.length,
      sha256: createHash('sha256').update(bytes).digest('hex'),
      createdAt: new Date(0),
      stream: createReadStream(path),
      filename: `trial-${id}.onnx`,
    };
  }
  async searchArtifacts(id: string): Promise<SearchArtifactsView> {
    await this.getSearch(id);
    return { searchId: id, store: 'fs', count: 0, bytes: 0, items: [] };
  }
  async *events(id: string): AsyncIterable<SearchEvent> {
    const progress = {
      total: 2,
      queued: 0,
      running: 0,
      completed: 2,
      pruned: 0,
      failed: 0,
      budget: 2,
      fraction: 1,
      reused: 0,
    };
    yield { type: 'snapshot', searchId: id, status: 'running', progress, best: null };
    yield fixture({
      type: 'trial-completed',
      searchId: id,
      trialId: fakeId('t', 2),
      number: 1,
      status: 'completed',
      progress,
    });
    yield {
      type: 'search-completed',
      searchId: id,
      status: 'completed',
      progress,
      best: null,
      paretoSize: 0,
      error: null,
    };
  }
  healthy = true;
  evaluatorInfos(): EvaluatorInfo[] {
    return evaluatorInfos();
  }

  async health(): Promise<Returned<'health'>> {
    return {
      ok: this.healthy,
      database: { kind: 'pglite', ok: this.healthy, latencyMs: 0.1 },
      activeSearches: 0,
      evaluators: ['surrogate'],
    };
  }
  readonly supernets: unknown[] = [];
  async createSupernet(body: unknown): Promise<Returned<'createSupernet'>> {
    this.supernets.push(body);
    return { supernet: fixture({ id: `n${this.supernets.length}`, status: 'training' }), training: true };
  }
  async listSupernets(): Promise<Returned<'listSupernets'>> {
    return { items: this.supernets.map((_, i) => fixture({ id: `n${i + 1}`, status: 'training' })) };
  }
  async getSupernet(id: string): Promise<Returned<'getSupernet'>> {
    if (!/^n\d+$/.test(id)) throw new DomainError('SUPERNET.NOT_FOUND', `supernet ${id} not found`, 'id');
    return fixture({ id, status: 'training' });
  }
  async startResuming(): Promise<void> {}
  async close(): Promise<void> {
    this.closed = true;
  }

  private search(id: string): { id: string; status: string } {
    const n = fakeNumber('s', id);
    if (!(n >= 1 && n <= this.created.length))
      throw new DomainError('SEARCH.NOT_FOUND', `no search '${id}'`, 'id');
    return { id, status: 'completed' };
  }
}

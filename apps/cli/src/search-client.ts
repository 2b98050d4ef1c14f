import { artifactOptionsFromConfig } from '@detsearch/artifacts';
import { createWriteStream } from 'node:fs';
import { resolve } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { isDomainError } from '@detsearch/common';
import type {
  ParetoFrontView,
  SearchEstimate,
  SearchEvent,
  SearchOrchestrator,
  SearchView,
} from '@detsearch/orchestrator';
import { readHomeLock, type ListTrialsQuery, type Trial, type TrialPage } from '@detsearch/persistence';
import { cliConfig, UsageError } from './cli-kit';

/**
 * What the search commands (search, searches, resume, cancel) need, whoever owns the database:
 * this process (embedded PGlite, or DATABASE_URL), or a `detsearch serve` that holds the embedded
 * database under the same DETSEARCH_HOME, reached over HTTP.
 */
export interface SearchClient {
  /** 'local': this process runs the loops and they stop when it exits; 'http': the server runs them. */
  readonly kind: 'local' | 'http';
  /** Where the searches live, for messages. */
  readonly where: string;
  createSearch(body: unknown): Promise<{ id: string; status: string }>;
  /** How long the same body would take where the search would run (nothing is created). */
  estimateSearch(body: unknown): Promise<SearchEstimate>;
  listSearches(query?: { limit?: number; status?: SearchView['status'] }): Promise<SearchView[]>;
  getSearch(id: string): Promise<SearchView>;
  cancel(id: string, options?: { reason?: string }): Promise<SearchView>;
  resume(id: string): Promise<SearchView>;
  /**
   * Resolves with the search once it is no longer queued or running; `onUpdate` sees progress and,
   * where the loop runs in this process, `onEvent` every event (epochs, preparation, fine-tuning).
   */
  follow(
    id: string,
    onUpdate: (s: SearchView) => void,
    onEvent?: (e: SearchEvent) => void,
  ): Promise<SearchView>;
  listTrials(id: string, query: ListTrialsQuery): Promise<TrialPage<Trial>>;
  pareto(id: string): Promise<ParetoFrontView>;
  paretoCsv(id: string): Promise<string>;
  /** Writes a trial's model (from the artifact store, wherever it ran) to `dest`; false when it has none. */
  downloadModel(trialId: string, dest: string): Promise<boolean>;
  close(): Promise<void>;
}

/** A search is over when no loop will touch it again without a resume. */
export const isActive = (s: Pick<SearchView, 'status'>): boolean =>
  s.status === 'queued' || s.status === 'running';

export interface OpenClientOptions {
  /** Run searches that were interrupted by a crash (only `serve` does; the CLI runs its own). */
  concurrency?: number;
}

/**
 * DATABASE_URL: the database directly. Else the embedded database under DETSEARCH_HOME: through
 * the server that owns it (its lock file names the port), or opened here (taking the lock).
 */
export async function openSearchClient(options: OpenClientOptions = {}): Promise<SearchClient> {
  const config = cliConfig();
  const databaseUrl = config.DATABASE_URL;
  const home = config.DETSEARCH_HOME;
  if (!databaseUrl) {
    const holder = readHomeLock(home);
    if (holder?.port) {
      const host =
        !holder.host || ['0.0.0.0', '::', '[::]'].includes(holder.host) ? '127.0.0.1' : holder.host;
      return new HttpSearchClient(`http://${host.includes(':') ? `[${host}]` : host}:${holder.port}`);
    }
    // A live holder without a port (another CLI search) makes the open below refuse, naming it.
  }
  const { SearchOrchestrator } = await import('@detsearch/orchestrator');
  const orchestrator = await SearchOrchestrator.open({
    databaseUrl,
    home,
    artifacts: artifactOptionsFromConfig(config),
    concurrency: options.concurrency ?? config.WORKER_CONCURRENCY,
    distributed: config.DETSEARCH_DISTRIBUTED,
    dataRoot: config.DATA_ROOT,
    evaluatorSettings: { backend: config.DETSEARCH_BACKEND, surrogateMs: config.DETSEARCH_SURROGATE_MS },
    // This process drives only what it is asked to; `serve` resumes crashed searches.
    resumeOrphans: false,
  });
  return new LocalSearchClient(
    orchestrator,
    databaseUrl ? 'DATABASE_URL' : `embedded database in ${resolve(home)}`,
  );
}

export class LocalSearchClient implements SearchClient {
  readonly kind = 'local' as const;
  constructor(
    readonly orchestrator: SearchOrchestrator,
    readonly where: string,
  ) {}
  createSearch(body: unknown) {
    return this.orchestrator.createSearch(body);
  }
  estimateSearch(body: unknown) {
    return this.orchestrator.estimateSearch(body);
  }
  listSearches(query: { limit?: number; status?: SearchView['status'] } = {}) {
    return this.orchestrator.listSearches(query);
  }
  getSearch(id: string) {
    return this.orchestrator.getSearch(id);
  }
  cancel(id: string, options: { reason?: string } = {}) {
    return this.orchestrator.cancel(id, options);
  }
  resume(id: string) {
    return this.orchestrator.resume(id);
  }
  async follow(
    id: string,
    onUpdate: (s: SearchView) => void,
    onEvent?: (e: SearchEvent) => void,
  ): Promise<SearchView> {
    const unsubscribe = this.orchestrator.subscribe(id, (e) => {
      onEvent?.(e);
      void this.orchestrator.getSearch(id).then(onUpdate, () => undefined);
    });
    try {
      const s = await this.orchestrator.waitForSearch(id);
      // A search another process drives (DATABASE_URL): no local loop to wait for; poll.
      if (!isActive(s)) return s;
      return await pollUntilDone(() => this.orchestrator.getSearch(id), onUpdate);
    } finally {
      unsubscribe();
    }
  }
  async downloadModel(trialId: string, dest: string): Promise<boolean> {
    const model = await this.orchestrator.openTrialModel(trialId).catch((err: unknown) => {
      if (isDomainError(err) && err.code === 'MODEL.NOT_FOUND') return null;
      throw err;
    });
    if (!model) return false;
    await pipeline(model.stream, createWriteStream(dest));
    return true;
  }
  listTrials(id: string, query: ListTrialsQuery) {
    return this.orchestrator.listTrials(id, query);
  }
  pareto(id: string) {
    return this.orchestrator.pareto(id);
  }
  paretoCsv(id: string) {
    return this.orchestrator.paretoCsv(id);
  }
  close() {
    return this.orchestrator.close();
  }
}

async function pollUntilDone(
  get: () => Promise<SearchView>,
  onUpdate: (s: SearchView) => void,
  everyMs = 500,
): Promise<SearchView> {
  for (;;) {
    const s = await get();
    onUpdate(s);
    if (!isActive(s)) return s;
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** The API of a running `detsearch serve`, with API_KEY when set. 4xx answers are usage errors (exit 2). */
export class HttpSearchClient implements SearchClient {
  readonly kind = 'http' as const;
  constructor(readonly baseUrl: string) {}

  get where(): string {
    return `the detsearch server at ${this.baseUrl}`;
  }

  private async request<T>(method: string, path: string, body?: unknown, raw = false): Promise<T> {
    const headers: Record<string, string> = {};
    if (body !== undefined) headers['content-type'] = 'application/json';
    const apiKey = cliConfig().API_KEY;
    if (apiKey) headers['x-api-key'] = apiKey;
    let res: Response;
    try {
      res = await fetch(`${this.baseUrl}${path}`, {
        method,
        headers,
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        signal: AbortSignal.timeout(30_000),
      });
    } catch (err) {
      throw new Error(`${this.where} does not answer: ${(err as Error).message}`);
    }
    const text = await res.text();
    if (!res.ok) {
      let message = text;
      try {
        const m = (JSON.parse(text) as { message?: unknown }).message;
        message = Array.isArray(m) ? m.join('; ') : String(m ?? text);
      } catch {
        // not JSON: keep the text
      }
      if (res.status >= 400 && res.status < 500) throw new UsageError(message);
      throw new Error(`${this.where}: ${res.status} ${message}`);
    }
    return (raw ? text : JSON.parse(text)) as T;
  }

  createSearch(body: unknown) {
    return this.request<{ id: string; status: string }>('POST', '/searches', body);
  }
  estimateSearch(body: unknown) {
    return this.request<SearchEstimate>('POST', '/searches/estimate', body);
  }
  async listSearches(query: { limit?: number; status?: SearchView['status'] } = {}) {
    const q = new URLSearchParams();
    if (query.limit !== undefined) q.set('limit', String(query.limit));
    if (query.status) q.set('status', query.status);
    const r = await this.request<SearchView[] | { items: SearchView[] }>('GET', `/searches?${q}`);
    return Array.isArray(r) ? r : r.items;
  }
  getSearch(id: string) {
    return this.request<SearchView>('GET', `/searches/${encodeURIComponent(id)}`);
  }
  cancel(id: string) {
    return this.request<SearchView>('POST', `/searches/${encodeURIComponent(id)}/cancel`);
  }
  resume(id: string) {
    return this.request<SearchView>('POST', `/searches/${encodeURIComponent(id)}/resume`);
  }
  follow(id: string, onUpdate: (s: SearchView) => void) {
    return pollUntilDone(() => this.getSearch(id), onUpdate);
  }
  listTrials(id: string, query: ListTrialsQuery) {
    const q = new URLSearchParams({ view: 'full' });
    for (const [k, v] of Object.entries(query)) if (v !== undefined) q.set(k, String(v));
    return this.request<TrialPage<Trial>>('GET', `/searches/${encodeURIComponent(id)}/trials?${q}`);
  }
  pareto(id: string) {
    return this.request<ParetoFrontView>('GET', `/searches/${encodeURIComponent(id)}/pareto`);
  }
  paretoCsv(id: string) {
    return this.request<string>(
      'GET',
      `/searches/${encodeURIComponent(id)}/pareto?format=csv`,
      undefined,
      true,
    );
  }
  async downloadModel(trialId: string, dest: string): Promise<boolean> {
    const headers: Record<string, string> = {};
    const apiKey = cliConfig().API_KEY;
    if (apiKey) headers['x-api-key'] = apiKey;
    const res = await fetch(`${this.baseUrl}/trials/${encodeURIComponent(trialId)}/model.onnx`, { headers });
    if (res.status === 404) return false;
    if (!res.ok || !res.body)
      throw new Error(`${this.where}: ${res.status} downloading trial ${trialId}'s model`);
    await pipeline(
      Readable.fromWeb(res.body as import('node:stream/web').ReadableStream),
      createWriteStream(dest),
    );
    return true;
  }
  async close() {}
}

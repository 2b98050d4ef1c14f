import { DomainError } from '@detsearch/common';
import type { OrchestratorPort } from '../orchestrator.port';

/**
 * An orchestrator without a database: records what the API passed it, answers with fixed data,
 * and raises the domain errors the real one raises. For controller specs and for writing the
 * OpenAPI document.
 */
export class FakeOrchestrator implements OrchestratorPort {
  readonly created: unknown[] = [];
  readonly trialQueries: unknown[] = [];
  closed = false;

  async createSearch(body: unknown): Promise<{ id: string; status: string }> {
    const b = body as { preset?: string };
    if (b.preset === 'no-such-preset')
      throw new DomainError('SEARCH.UNKNOWN_PRESET', `unknown preset 'no-such-preset'`, 'preset');
    this.created.push(body);
    return { id: `s${this.created.length}`, status: 'queued' };
  }
  async listSearches(): Promise<unknown[]> {
    return this.created.map((_, i) => ({ id: `s${i + 1}` }));
  }
  async getSearch(id: string): Promise<unknown> {
    return this.search(id);
  }
  async cancel(id: string): Promise<unknown> {
    this.search(id);
    throw new DomainError('SEARCH.CONFLICT_STATE', `search ${id} already ended`);
  }
  async resume(id: string): Promise<unknown> {
    return { ...this.search(id), status: 'running' };
  }
  async listTrials(id: string, query: unknown): Promise<unknown> {
    this.search(id);
    this.trialQueries.push(query);
    return { total: 0, items: [] };
  }
  async pareto(id: string): Promise<unknown> {
    this.search(id);
    return { objectives: [], points: [] };
  }
  async paretoCsv(id: string): Promise<string> {
    this.search(id);
    return 'trialId,map50_95,latencyMs\n';
  }
  async getTrial(id: string): Promise<unknown> {
    throw new DomainError('TRIAL.NOT_FOUND', `no trial '${id}'`, 'id');
  }
  async trialModelPath(id: string): Promise<string | null> {
    throw new DomainError('TRIAL.NOT_FOUND', `no trial '${id}'`, 'id');
  }
  async *events(id: string): AsyncIterable<unknown> {
    yield { type: 'progress', searchId: id, completed: 1, total: 2 };
    yield { type: 'progress', searchId: id, completed: 2, total: 2 };
    yield { type: 'end', searchId: id, status: 'completed' };
  }
  async health(): Promise<unknown> {
    return { status: 'ok', database: 'up' };
  }
  async close(): Promise<void> {
    this.closed = true;
  }

  private search(id: string): { id: string; status: string } {
    const n = Number(id.replace(/^s/, ''));
    if (!id.startsWith('s') || !(n >= 1 && n <= this.created.length))
      throw new DomainError('SEARCH.NOT_FOUND', `no search '${id}'`, 'id');
    return { id, status: 'completed' };
  }
}

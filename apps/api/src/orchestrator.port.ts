/**
 * What the API needs from the orchestrator facade. Kept as an interface so controllers can be
 * tested with a fake and the OpenAPI document can be written without a database.
 * TEMPORARY shape until libs/orchestrator publishes its types.
 */
export interface OrchestratorPort {
  createSearch(body: unknown): Promise<{ id: string; status: string }>;
  listSearches(): Promise<unknown[]>;
  getSearch(id: string): Promise<unknown>;
  cancel(id: string): Promise<unknown>;
  resume(id: string): Promise<unknown>;
  listTrials(
    id: string,
    query: { sort?: string; limit?: number; offset?: number; status?: string },
  ): Promise<unknown>;
  pareto(id: string): Promise<unknown>;
  paretoCsv(id: string): Promise<string>;
  getTrial(id: string): Promise<unknown>;
  trialModelPath(id: string): Promise<string | null | undefined>;
  events(id: string): AsyncIterable<unknown>;
  health(): Promise<unknown>;
  close(): Promise<void>;
}

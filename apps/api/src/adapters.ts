import type { ApiConfig } from './config';
import type { OrchestratorPort } from './orchestrator.port';
import type { CatalogPort } from './catalog/catalog.port';
import { LatencyCatalog } from './catalog/latency-catalog';

export interface OpenOrchestratorOptions {
  config: ApiConfig;
  inMemory?: boolean;
  schema?: string;
}

/** Opens the orchestrator the config describes: Postgres when DATABASE_URL is set, else embedded PGlite. */
export async function openOrchestrator(_options: OpenOrchestratorOptions): Promise<OrchestratorPort> {
  throw new Error('libs/orchestrator is not available yet');
}

export function openCatalog(): CatalogPort {
  return new LatencyCatalog();
}

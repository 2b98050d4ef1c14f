import pino from 'pino';
import { artifactOptionsFromConfig } from '@detsearch/artifacts';
import { setDetsearchHome } from '@detsearch/latency';
import { SearchOrchestrator, type OrchestratorOptions } from '@detsearch/orchestrator';
import type { ApiConfig } from './config';
import type { OrchestratorPort } from './orchestrator.port';
import type { CatalogPort } from './catalog/catalog.port';
import { LatencyCatalog } from './catalog/latency-catalog';

export interface OpenOrchestratorOptions {
  config: ApiConfig;
  inMemory?: boolean;
  schema?: string;
  /** Extra or replacement evaluators (tests). */
  evaluators?: OrchestratorOptions['evaluators'];
  /** Resume interrupted searches only when startResuming() is called (after listen). */
  deferResume?: boolean;
}

/**
 * Opens the orchestrator the config describes: Postgres when DATABASE_URL is set, else embedded
 * PGlite under DETSEARCH_HOME. It resumes interrupted searches on open; trials run in its workers,
 * never in request handlers.
 */
export async function openOrchestrator(options: OpenOrchestratorOptions): Promise<OrchestratorPort> {
  const { config } = options;
  const logger = pino({ level: config.LOG_LEVEL, name: 'orchestrator' });
  setDetsearchHome(config.DETSEARCH_HOME);
  return SearchOrchestrator.open({
    databaseUrl: config.DATABASE_URL,
    home: config.DETSEARCH_HOME,
    artifacts: artifactOptionsFromConfig(config),
    distributed: config.DETSEARCH_DISTRIBUTED,
    dataRoot: config.DATA_ROOT,
    evaluatorSettings: { backend: config.DETSEARCH_BACKEND, surrogateMs: config.DETSEARCH_SURROGATE_MS },
    evaluators: options.evaluators,
    inMemory: options.inMemory,
    schema: options.schema,
    deferResume: options.deferResume,
    concurrency: config.WORKER_CONCURRENCY,
    // The REST contract: objectives come from the body or the preset, never a silent default.
    launch: { maxTrials: config.MAX_TRIALS_PER_SEARCH, objectivesRequired: true },
    log: (msg, extra) => logger.info(extra ?? {}, msg),
  });
}

export function openCatalog(): CatalogPort {
  return new LatencyCatalog();
}

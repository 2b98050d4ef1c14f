import { Inject, Injectable } from '@nestjs/common';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { ORCHESTRATOR } from '../tokens';
import type { OrchestratorPort } from '../orchestrator.port';
import { TRIAL_STATUSES } from '@detsearch/domain';

/** Searches summed per scrape; beyond this the gauges undercount (and say so in their help). */
const SCRAPE_SEARCHES = 1000;

/**
 * Prometheus metrics of one app instance. Each app owns its registry (not prom-client's global
 * one) so that several apps in one process, as in tests, do not collide.
 */
@Injectable()
export class MetricsService {
  readonly registry = new Registry();

  readonly httpDuration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP request duration by method, route template and status',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [this.registry],
  });

  readonly searchesCreated = new Counter({
    name: 'detsearch_searches_created_total',
    help: 'Searches launched through the API',
    registers: [this.registry],
  });

  readonly searchTransitions = new Counter({
    name: 'detsearch_search_actions_total',
    help: 'Lifecycle actions requested through the API',
    labelNames: ['action'] as const,
    registers: [this.registry],
  });

  /** One listSearches per scrape, shared by the gauges below. */
  private scrape: ReturnType<OrchestratorPort['listSearches']> | null = null;

  constructor(@Inject(ORCHESTRATOR) private readonly orchestrator: OrchestratorPort) {
    collectDefaultMetrics({ register: this.registry });
    // Read from the database at scrape time, so they are right whichever process ran the trials.
    const searches = () => (this.scrape ??= this.orchestrator.listSearches({ limit: SCRAPE_SEARCHES }));
    new Gauge({
      name: 'detsearch_searches',
      help: `Searches by status (the ${SCRAPE_SEARCHES} most recent)`,
      labelNames: ['status'] as const,
      registers: [this.registry],
      async collect() {
        this.reset();
        for (const s of await searches()) this.inc({ status: s.status });
      },
    });
    new Gauge({
      name: 'detsearch_trials',
      help: `Trials by status, over the ${SCRAPE_SEARCHES} most recent searches`,
      labelNames: ['status'] as const,
      registers: [this.registry],
      async collect() {
        const all = await searches();
        for (const status of TRIAL_STATUSES)
          this.set(
            { status },
            all.reduce((sum, s) => sum + s.progress[status], 0),
          );
      },
    });
  }

  contentType(): string {
    return this.registry.contentType;
  }

  async text(): Promise<string> {
    try {
      return await this.registry.metrics();
    } finally {
      this.scrape = null;
    }
  }
}

import { Injectable } from '@nestjs/common';
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

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

  readonly trialsFinished = new Counter({
    name: 'detsearch_trials_finished_total',
    help: 'Trials that reached a final status, observed by this process',
    labelNames: ['status'] as const,
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }

  contentType(): string {
    return this.registry.contentType;
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }
}

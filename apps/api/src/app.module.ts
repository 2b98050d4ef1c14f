import { Inject, Module, type DynamicModule, type OnApplicationShutdown } from '@nestjs/common';
import { APP_FILTER, APP_GUARD, APP_INTERCEPTOR, APP_PIPE } from '@nestjs/core';
import { ThrottlerGuard, ThrottlerModule } from '@nestjs/throttler';
import { LoggerModule } from 'nestjs-pino';
import { resolve } from 'node:path';
import type { ApiConfig } from './config';
import { API_CONFIG, CATALOG, ORCHESTRATOR } from './tokens';
import type { OrchestratorPort } from './orchestrator.port';
import type { CatalogPort } from './catalog/catalog.port';
import { ErrorFilter } from './http/error.filter';
import { ApiKeyGuard } from './http/api-key.guard';
import { createValidationPipe } from './http/validation';
import { requestIdOf } from './http/request-id';
import { clientOf } from './http/client';
import { LaunchQuota } from './http/launch-quota';
import { RedactInterceptor } from './http/redact';
import { MetricsService } from './metrics/metrics.service';
import { MetricsController } from './metrics/metrics.controller';
import { HealthController } from './health/health.controller';
import { CatalogController } from './catalog/catalog.controller';
import { SearchesController } from './searches/searches.controller';
import { TrialsController } from './trials/trials.controller';
import { DatasetsController } from './datasets/datasets.controller';
import { SupernetsController } from './supernets/supernets.controller';

export interface AppModuleOptions {
  config: ApiConfig;
  orchestrator: OrchestratorPort;
  catalog: CatalogPort;
}

/** Closes the orchestrator (its workers and database) when the app shuts down. */
class OrchestratorLifecycle implements OnApplicationShutdown {
  constructor(@Inject(ORCHESTRATOR) private readonly orchestrator: OrchestratorPort) {}

  async onApplicationShutdown(): Promise<void> {
    await this.orchestrator.close();
  }
}

@Module({})
export class AppModule {
  static forRoot(options: AppModuleOptions): DynamicModule {
    const { config } = options;
    return {
      module: AppModule,
      imports: [
        LoggerModule.forRoot({
          pinoHttp: {
            level: config.LOG_LEVEL,
            // Scrapes and probes would drown the request log.
            autoLogging: { ignore: (req) => req.url === '/metrics' || req.url === '/health' },
            redact: ['req.headers.authorization', 'req.headers["x-api-key"]'],
            // The id the request-id middleware settled on (the caller's X-Request-Id if sane).
            genReqId: (req) => (req as { id?: string }).id ?? requestIdOf(req),
          },
        }),
        ThrottlerModule.forRoot({
          throttlers: [{ name: 'default', ttl: config.RATE_LIMIT_WINDOW_MS, limit: config.RATE_LIMIT }],
          getTracker: (req) => clientOf(req as Parameters<typeof clientOf>[0]),
          // One budget per client across all routes (the default would count each route apart).
          generateKey: (_ctx, tracker, name) => `${name}:${tracker}`,
          // Probes and scrapes are never limited; RATE_LIMIT=0 turns the limit off.
          skipIf: (ctx) =>
            config.RATE_LIMIT === 0 ||
            ['/health', '/metrics'].includes(ctx.switchToHttp().getRequest<{ path?: string }>().path ?? ''),
          errorMessage: `too many requests from this client: at most ${config.RATE_LIMIT} per ${config.RATE_LIMIT_WINDOW_MS / 1000} s`,
        }),
      ],
      controllers: [
        SearchesController,
        TrialsController,
        SupernetsController,
        CatalogController,
        DatasetsController,
        HealthController,
        MetricsController,
      ],
      providers: [
        { provide: API_CONFIG, useValue: config },
        { provide: ORCHESTRATOR, useValue: options.orchestrator },
        { provide: CATALOG, useValue: options.catalog },
        { provide: APP_FILTER, useClass: ErrorFilter },
        { provide: APP_GUARD, useClass: ApiKeyGuard },
        { provide: APP_GUARD, useClass: ThrottlerGuard },
        {
          provide: APP_INTERCEPTOR,
          useValue: new RedactInterceptor({
            dataRoot: resolve(config.DATA_ROOT ?? '.'),
            home: resolve(config.DETSEARCH_HOME),
          }),
        },
        {
          provide: LaunchQuota,
          useValue: new LaunchQuota(config.RATE_LIMIT_LAUNCH, config.RATE_LIMIT_WINDOW_MS),
        },
        { provide: APP_PIPE, useFactory: createValidationPipe },
        MetricsService,
        OrchestratorLifecycle,
      ],
    };
  }
}

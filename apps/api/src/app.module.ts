import { Inject, Module, type DynamicModule, type OnApplicationShutdown } from '@nestjs/common';
import { APP_FILTER, APP_GUARD, APP_PIPE } from '@nestjs/core';
import { LoggerModule } from 'nestjs-pino';
import type { ApiConfig } from './config';
import { API_CONFIG, CATALOG, ORCHESTRATOR } from './tokens';
import type { OrchestratorPort } from './orchestrator.port';
import type { CatalogPort } from './catalog/catalog.port';
import { ErrorFilter } from './http/error.filter';
import { ApiKeyGuard } from './http/api-key.guard';
import { createValidationPipe } from './http/validation';
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
          },
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
        { provide: APP_PIPE, useFactory: createValidationPipe },
        MetricsService,
        OrchestratorLifecycle,
      ],
    };
  }
}

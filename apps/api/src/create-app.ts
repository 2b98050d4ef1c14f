import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { Logger } from 'nestjs-pino';
import { AppModule } from './app.module';
import { loadConfig, type ApiConfig } from './config';
import type { OrchestratorPort } from './orchestrator.port';
import type { CatalogPort } from './catalog/catalog.port';
import { httpMetricsMiddleware } from './metrics/metrics.middleware';
import { MetricsService } from './metrics/metrics.service';
import { setupOpenApi } from './openapi';
import { serveDashboard } from './dashboard';
import { openCatalog, openOrchestrator, type OpenOrchestratorOptions } from './adapters';
import { API_CONFIG as API_CONFIG_TOKEN } from './tokens';

export interface CreateAppOptions {
  /** Environment to read the config from (default: this process's). */
  env?: Record<string, string | undefined>;
  /** Values that win over the environment (tests, CLI flags). */
  config?: Partial<ApiConfig>;
  /** An orchestrator to use instead of opening one from the config; the app closes it on shutdown. */
  orchestrator?: OrchestratorPort;
  catalog?: CatalogPort;
  /** Embedded PGlite in memory instead of under DETSEARCH_HOME (ignored when DATABASE_URL is set). */
  inMemory?: boolean;
  /** Postgres schema to isolate this app's tables in (tests on a shared database). */
  schema?: string;
  /** Extra or replacement evaluators for the orchestrator opened from the config (tests). */
  evaluators?: OpenOrchestratorOptions['evaluators'];
}

/**
 * Builds the HTTP app, initialised but not listening: tests drive it with supertest,
 * `startServer` and `detsearch serve` bind it to a port.
 */
export async function createApp(options: CreateAppOptions = {}): Promise<NestExpressApplication> {
  const config: ApiConfig = { ...loadConfig(options.env), ...options.config };
  const orchestrator =
    options.orchestrator ??
    (await openOrchestrator({
      config,
      inMemory: options.inMemory,
      schema: options.schema,
      evaluators: options.evaluators,
    }));
  try {
    const app = await NestFactory.create<NestExpressApplication>(
      AppModule.forRoot({ config, orchestrator, catalog: options.catalog ?? openCatalog() }),
      { bodyParser: false, bufferLogs: true, abortOnError: false },
    );
    app.useLogger(app.get(Logger));
    app.use(httpMetricsMiddleware(app.get(MetricsService)));
    app.useBodyParser('json', { limit: config.BODY_LIMIT });
    app.disable('x-powered-by');
    app.enableShutdownHooks();
    setupOpenApi(app);
    serveDashboard(app);
    await app.init();
    return app;
  } catch (err) {
    await orchestrator.close();
    throw err;
  }
}

export interface RunningServer {
  app: NestExpressApplication;
  url: string;
  port: number;
}

/** createApp + listen on PORT (0 picks a free port). */
export async function startServer(
  options: CreateAppOptions & { host?: string } = {},
): Promise<RunningServer> {
  const app = await createApp(options);
  const config = app.get<ApiConfig>(API_CONFIG_TOKEN);
  await app.listen(config.PORT, options.host ?? '0.0.0.0');
  const address = app.getHttpServer().address();
  const port = typeof address === 'object' && address ? address.port : config.PORT;
  const host = options.host && options.host !== '0.0.0.0' ? options.host : 'localhost';
  return { app, url: `http://${host}:${port}`, port };
}

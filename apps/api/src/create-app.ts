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
import { requestIdMiddleware } from './http/request-id';
import { securityHeaders } from './http/security';
import { apiKeyMiddleware } from './http/api-key.guard';
import { badRequest, jsonDepth, jsonSyntaxErrors, storableTextMiddleware } from './http/json-guards';
import { API_CONFIG as API_CONFIG_TOKEN, ORCHESTRATOR as ORCHESTRATOR_TOKEN } from './tokens';

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
  /** Resume interrupted searches only once the server listens (startServer sets it). */
  deferResume?: boolean;
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
      deferResume: options.deferResume,
    }));
  try {
    const app = await NestFactory.create<NestExpressApplication>(
      AppModule.forRoot({ config, orchestrator, catalog: options.catalog ?? openCatalog() }),
      { bodyParser: false, bufferLogs: true, abortOnError: false },
    );
    app.useLogger(app.get(Logger));
    app.use(requestIdMiddleware());
    app.use(securityHeaders());
    app.use(httpMetricsMiddleware(app.get(MetricsService)));
    // Before the body parser: an unauthenticated client cannot make the service parse a body.
    app.use(apiKeyMiddleware(config.API_KEY));
    app.useBodyParser('json', {
      limit: config.BODY_LIMIT,
      // Nesting is bounded on the raw text, before JSON.parse or any validator recurses over it.
      verify: (_req: unknown, _res: unknown, buf: Buffer) => {
        if (jsonDepth(buf, config.MAX_JSON_DEPTH) > config.MAX_JSON_DEPTH)
          throw badRequest(`body: nested deeper than ${config.MAX_JSON_DEPTH} levels`);
      },
    });
    app.use(jsonSyntaxErrors());
    app.use(storableTextMiddleware());
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

/** createApp + listen on HOST:PORT (loopback unless told otherwise; port 0 picks a free one). */
export async function startServer(
  options: CreateAppOptions & { host?: string; onListening?: (port: number) => void } = {},
): Promise<RunningServer> {
  const app = await createApp({ deferResume: true, ...options });
  const config = app.get<ApiConfig>(API_CONFIG_TOKEN);
  await app.listen(config.PORT, options.host ?? config.HOST);
  const address = app.getHttpServer().address();
  const port = typeof address === 'object' && address ? address.port : config.PORT;
  options.onListening?.(port);
  // Listening first: a restart with searches to resume answers requests at once.
  const orchestrator = app.get<OrchestratorPort>(ORCHESTRATOR_TOKEN);
  await orchestrator.startResuming();
  const bound = options.host ?? config.HOST;
  const host =
    bound === '0.0.0.0' || bound === '::' ? 'localhost' : bound.includes(':') ? `[${bound}]` : bound;
  return { app, url: `http://${host}:${port}`, port };
}

import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { action, fail, parseIntOption, UsageError } from '../cli-kit';

interface WorkerOptions {
  concurrency?: number;
  measureOnly?: boolean;
  profile?: string;
  requestMeasurements?: string;
  all?: boolean;
  limit?: number;
  exportMeasurements?: string;
  health?: boolean;
  json?: boolean;
}

export function registerWorker(program: Command): void {
  program
    .command('worker')
    .description(
      'start a trial worker against DATABASE_URL (takes trial jobs from the queue); with --measure-only, a latency worker on a device',
    )
    .option(
      '--concurrency <n>',
      'jobs at once (default WORKER_CONCURRENCY, else one per core: each training uses a core)',
      parseIntOption('concurrency', 1, 64),
    )
    .option('--measure-only', 'measure ONNX latency for --profile on this device instead of running trials')
    .option(
      '--profile <name>',
      'hardware profile this device is (with --measure-only and the measurement options)',
    )
    .option(
      '--request-measurements <searchId>',
      "queue latency measurements of the search's Pareto-front trials for --profile, then exit",
    )
    .option('--all', 'with --request-measurements: every completed trial, not only the Pareto front')
    .option(
      '--limit <n>',
      'with --request-measurements: at most this many trials',
      parseIntOption('limit', 1),
    )
    .option(
      '--export-measurements <file>',
      "write --profile's device measurements as [{genome, medianMs}] (for `detsearch calibrate --measurements`; '-' for stdout), then exit",
    )
    .option(
      '--health',
      'exit 0 when a worker on this host heartbeated within WORKER_STALE_MS, else 1 (container health checks)',
    )
    .option('--json', 'one JSON object on stdout (measurement and health options)')
    .action(async (o: WorkerOptions, cmd: Command) => {
      if (o.health) return healthCommand(o, cmd);
      if (o.requestMeasurements || o.exportMeasurements) return measurementCommand(o, cmd);
      try {
        if (o.measureOnly && !o.profile) throw new UsageError('--measure-only needs --profile NAME');
        if (!o.measureOnly && o.profile) throw new UsageError('--profile goes with --measure-only');
        // Loaded here so other commands do not pay for the queue and the evaluators.
        const { runWorker } = await import('../../../worker/src/worker-app');
        await runWorker({
          ...(o.concurrency ? { concurrency: o.concurrency } : {}),
          ...(o.measureOnly ? { measureOnly: true, profile: o.profile } : {}),
        });
      } catch (err) {
        // A configuration mistake (DATABASE_URL missing...) is the user's: exit 2 like bad options.
        fail(err instanceof Error && err.name === 'WorkerConfigError' ? new UsageError(err.message) : err);
      }
    });
}

function measurementCommand(o: WorkerOptions, cmd: Command): Promise<void> {
  return action<WorkerOptions>(async (opts) => {
    if (!opts.profile) throw new UsageError('--profile NAME is required with the measurement options');
    const { loadWorkerConfig, workerOptions } = await import('../../../worker/src/worker-app');
    const { getHardwareProfile } = await import('@detsearch/latency');
    getHardwareProfile(opts.profile);
    const config = workerOptions(loadWorkerConfig());
    const { createDataSource, MeasurementRepository, TrialRepository } =
      await import('@detsearch/persistence');
    const db = await createDataSource({
      databaseUrl: config.databaseUrl,
      schema: config.schema,
      poolSize: 2,
    });
    try {
      const measurements = new MeasurementRepository(db);
      if (opts.exportMeasurements) {
        const samples = await measurements.samples(opts.profile);
        const text = `${JSON.stringify(
          samples.map((s) => ({ genome: s.genome, medianMs: s.medianMs })),
          null,
          2,
        )}\n`;
        if (opts.exportMeasurements === '-' && !opts.json) return { json: samples, text: text.trimEnd() };
        if (opts.exportMeasurements !== '-') writeFileSync(opts.exportMeasurements, text);
        return {
          json: { profile: opts.profile, measurements: samples.length, path: opts.exportMeasurements },
          text: `wrote ${samples.length} measurements of ${opts.profile} to ${opts.exportMeasurements}`,
        };
      }
      const { PgBossQueue, requestMeasurements, trialsToMeasure } = await import('@detsearch/orchestrator');
      const queue = await PgBossQueue.start(db, { schema: config.queueSchema, supervise: false });
      try {
        const items = await trialsToMeasure(
          new TrialRepository(db),
          opts.requestMeasurements!,
          opts.all ? 'completed' : 'pareto',
          opts.limit,
        );
        const rows = await requestMeasurements(db, measurements, queue, opts.profile, items);
        return {
          json: { profile: opts.profile, searchId: opts.requestMeasurements, queued: rows.length },
          text: `queued ${rows.length} latency measurements for ${opts.profile}; run \`detsearch worker --measure-only --profile ${opts.profile}\` on the device`,
        };
      } finally {
        await queue.stop();
      }
    } finally {
      await db.close();
    }
  })(o, cmd);
}

function healthCommand(o: WorkerOptions, cmd: Command): Promise<void> {
  return action<WorkerOptions>(async () => {
    const { hostname } = await import('node:os');
    const { loadWorkerConfig } = await import('../../../worker/src/worker-app');
    const { createDataSource, WorkerRepository } = await import('@detsearch/persistence');
    const config = loadWorkerConfig();
    const db = await createDataSource({
      databaseUrl: config.DATABASE_URL,
      schema: config.DETSEARCH_DB_SCHEMA,
      poolSize: 1,
      migrate: false,
    });
    try {
      const host = hostname();
      const mine = (await new WorkerRepository(db).live(config.WORKER_STALE_MS)).filter(
        (w) => w.host === host,
      );
      if (mine.length === 0)
        throw new Error(`no worker on ${host} heartbeated in the last ${config.WORKER_STALE_MS} ms`);
      return {
        json: {
          healthy: true,
          workers: mine.map((w) => ({ id: w.id, kind: w.kind, heartbeatAt: w.heartbeatAt })),
        },
        text: `healthy: ${mine.map((w) => w.id).join(', ')}`,
      };
    } finally {
      await db.close();
    }
  })(o, cmd);
}

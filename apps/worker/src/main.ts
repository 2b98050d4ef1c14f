import 'reflect-metadata';
import { loadWorkerConfig, runWorker } from './worker-app';

/*
 * The worker's own entry (`node dist/apps/worker/src/main.js`, the container's command), the same
 * as `detsearch worker`: configuration from the environment; WORKER_MEASURE_PROFILE=<profile>
 * makes it a latency-measurement worker for that hardware profile.
 */
function main(): Promise<unknown> {
  const profile = loadWorkerConfig().WORKER_MEASURE_PROFILE;
  return runWorker(profile ? { measureOnly: true, profile } : {});
}

main().catch((err: unknown) => {
  process.stderr.write(`detsearch worker: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(2);
});

import 'reflect-metadata';
import { runWorker } from './worker-app';

/*
 * The worker's own entry (`node dist/apps/worker/src/main.js`, the container's command), the same
 * as `detsearch worker`: configuration from the environment; WORKER_MEASURE_PROFILE=<profile>
 * makes it a latency-measurement worker for that hardware profile.
 */
const profile = process.env.WORKER_MEASURE_PROFILE?.trim();
runWorker(profile ? { measureOnly: true, profile } : {}).catch((err: unknown) => {
  process.stderr.write(`detsearch worker: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(2);
});

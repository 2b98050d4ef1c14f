// Worker entry of the batch loader: builds batches on its own thread and transfers the buffers.
import { parentPort, workerData } from 'node:worker_threads';
import { type BatchTask, type PipelineConfig, SamplePipeline } from './pipeline';
import type { YoloSample } from './types';

export interface BatchWorkerData {
  samples: YoloSample[];
  config: PipelineConfig;
}

export type BatchWorkerReply =
  { id: number; batch: import('./pipeline').Batch } | { id: number; error: string };

if (parentPort) {
  const port = parentPort;
  const data = workerData as BatchWorkerData;
  const pipeline = new SamplePipeline(data.samples, data.config);
  port.on('message', (msg: { id: number; task: BatchTask } | { close: true }) => {
    // Closing the port lets the thread end on its own: terminate() during native module
    // teardown (swc under vitest) has crashed the host process.
    if ('close' in msg) return port.close();
    try {
      const batch = pipeline.assemble(msg.task);
      port.postMessage({ id: msg.id, batch } satisfies BatchWorkerReply, [
        batch.images.buffer as ArrayBuffer,
        batch.targets.buffer as ArrayBuffer,
      ]);
    } catch (err) {
      port.postMessage({ id: msg.id, error: (err as Error).message } satisfies BatchWorkerReply);
    }
  });
}

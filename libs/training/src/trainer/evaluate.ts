import * as tf from '@tensorflow/tfjs-core';
import type { TfjsDetector } from '@detsearch/model-tfjs';
import type { Batch } from '../dataset/pipeline';
import type { Detection } from '../eval/boxes';
import { targetsToGroundTruth } from '../eval/boxes';
import type { HeadLayout, HeadOutput } from '../eval/decode';
import { MapEvaluator, type MapResult } from '../eval/map';
import { postprocessYolo } from '../eval/nms';

/** Ultralytics val.py settings: conf 0.001, IoU 0.6, multi-label, 300 detections per image. */
export const VAL_SETTINGS = { confThreshold: 0.001, iouThreshold: 0.6, maxDetections: 300, multiLabel: true };

export function postprocess(levels: HeadOutput[], numClasses: number, layout: HeadLayout): Detection[][] {
  return postprocessYolo(levels, { numClasses, layout, ...VAL_SETTINGS });
}

/**
 * COCO mAP over batches: `detect` turns a batch into final detections per image; ground truth comes
 * from the batch targets (letterboxed coordinates: IoU does not change under the letterbox's uniform
 * scale and shift, so scoring there equals scoring in original pixels).
 */
export async function evaluateBatches(
  batches: AsyncIterable<Batch>,
  detect: (batch: Batch) => Promise<Detection[][]> | Detection[][],
  options: { names?: readonly string[]; maxImages?: number } = {},
): Promise<MapResult> {
  const ev = new MapEvaluator({ names: options.names });
  let seen = 0;
  for await (const batch of batches) {
    const dets = await detect(batch);
    const gts = targetsToGroundTruth(batch.targets, batch.size, batch.imageSize);
    for (let i = 0; i < batch.size; i++) ev.add(dets[i]!, gts[i]!);
    seen += batch.size;
    if (options.maxImages !== undefined && seen >= options.maxImages) break;
  }
  return ev.result();
}

/** Detections of a tfjs detector (inference mode) on a batch. */
export function tfjsDetect(model: TfjsDetector, numClasses: number): (batch: Batch) => Detection[][] {
  return (batch) => {
    const levels = tf.tidy(() => {
      const x = tf.tensor4d(batch.images, [batch.size, batch.imageSize, batch.imageSize, 3]);
      return model.forward(x, false);
    });
    const heads = levels.map((t) => ({ data: t.dataSync(), shape: t.shape }));
    tf.dispose(levels);
    return postprocess(heads, numClasses, 'nhwc');
  };
}

/** NHWC batch images [B,S,S,3] -> one NCHW [1,3,S,S] image (what the exported ONNX takes). */
export function imageToNchw(images: Float32Array, index: number, size: number): Float32Array {
  const plane = size * size;
  const out = new Float32Array(3 * plane);
  const base = index * plane * 3;
  for (let p = 0; p < plane; p++) {
    out[p] = images[base + p * 3]!;
    out[plane + p] = images[base + p * 3 + 1]!;
    out[2 * plane + p] = images[base + p * 3 + 2]!;
  }
  return out;
}

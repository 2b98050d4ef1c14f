import type { EpochDecision } from '@detsearch/domain';
import type { OptimizerHyp } from './schedule';
import type { LossHyp } from '../loss/yolo-loss';
import type { AugmentOptions } from '../dataset/augment';

/** Where the images come from: an Ultralytics data.yaml, or a synthetic set generated on the fly. */
export type DatasetSpec =
  | {
      dataYaml: string;
      /** Datasets are read only below this folder (default: the working directory). */ dataRoot?: string;
    }
  | { synth: { images: number; seed: number; size?: number } };

export interface TrainHyp extends OptimizerHyp {
  /** EMA decay and ramp (Ultralytics 0.9999 / 2000 updates). Default tau adapts to the run length. */
  emaDecay: number;
  emaTau?: number;
  /** Loss gains before scaling to classes and image size (hyp.scratch-low). */
  loss?: Partial<LossHyp>;
  /**
   * Augmentation: true for hyp.scratch-low (mosaic off), false for none, or hyp.scratch-low with
   * these values changed (e.g. `{ mosaic: 1 }`).
   */
  augment: boolean | Partial<AugmentOptions>;
}

/** One training job: everything needed, as plain JSON, so it can cross a process boundary. */
export interface TrainJob {
  /** Genome JSON; validated by parseGenome. */
  genome: unknown;
  dataset: DatasetSpec;
  epochs: number;
  /** Default DEFAULT_BATCH_SIZE (8). */
  batchSize?: number;
  /** Training and evaluation image size; default the genome's. */
  imageSize?: number;
  seed?: number;
  /** Run folder: synthetic data, weights. Created if missing. */
  outDir: string;
  hyp?: Partial<TrainHyp>;
  /** Validate every k epochs (and always after the last). Default 1. */
  evalEvery?: number;
  /** Data loader worker threads (default 1: one core trains, one prepares batches). */
  workers?: number;
  /** TensorFlow.js backend preference (default auto). */
  backend?: string;
  /** A weights file (the detsearch format) to start from instead of a fresh initialization. */
  initialWeights?: string;
  /** Teacher model (an exported ONNX of the same classes and image size) for distillation. */
  teacherOnnx?: string;
  /** Weight of the distillation loss (default 1.0). */
  distillWeight?: number;
  /** Caps for quick runs and tests. */
  maxBatchesPerEpoch?: number;
  maxValImages?: number;
}

export interface EpochMetrics {
  epoch: number;
  /** Mean loss parts over the epoch, after gains (Ultralytics' loss_items). */
  box: number;
  obj: number;
  cls: number;
  distill?: number;
  /** Validation mAP of the EMA weights; null in epochs that were not validated. */
  map50: number | null;
  map50_95: number | null;
  imagesPerSecond: number;
  /** Weight learning rate at the end of the epoch. */
  lr: number;
  seconds: number;
}

export type { EpochDecision };

export type TrainStatus = 'completed' | 'stopped' | 'failed';

export interface TrainSummary {
  status: TrainStatus;
  /** Why a run failed or stopped. */
  reason?: string;
  epochs: EpochMetrics[];
  /** Last validated mAP of the EMA weights (0 when never validated). */
  map50: number;
  map50_95: number;
  /** Training images per second over the whole run (forward + backward + update). */
  imagesPerSecond: number;
  backend: string;
  imageSize: number;
  numClasses: number;
  trainImages: number;
  valImages: number;
  seconds: number;
  /** Where the EMA weights were saved (detsearch weights file), when training produced any. */
  weightsPath?: string;
  /** The dataset's data.yaml actually used (synthetic sets are written into outDir). */
  dataYaml: string;
}

/** Seconds spent per phase of training, summed over the run (for finding where time goes). */
export interface TimeProfile {
  data: number;
  forward: number;
  backward: number;
  loss: number;
  optimizer: number;
  ema: number;
  eval: number;
}

export interface TrainHooks {
  /** After each epoch; 'stop' ends the run early (status 'stopped'). */
  onEpoch?: (m: EpochMetrics) => EpochDecision | Promise<EpochDecision>;
  /** Free-form progress lines (batches, phases). */
  onLog?: (line: string) => void;
}

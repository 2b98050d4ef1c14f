// Runs inside batch workers as well as in-process: keep its imports relative (no path aliases)
// and free of the framework, so a worker starts fast from both dist JS and TS sources.
import { readFileSync } from 'node:fs';
import {
  type AugmentOptions,
  type LoadedImage,
  augmentHsv,
  flipHorizontal,
  flipVertical,
  mosaic4,
  randomAffine,
  toLabelBoxes,
  toPixelBoxes,
} from './augment';
import { decodeImage } from './image-io';
import { letterbox, letterboxBoxes, resizeLongSide } from './letterbox';
import { DataRng } from './rng';
import type { LabelBox, RgbImage, YoloSample } from './types';

export interface PipelineConfig {
  imageSize: number;
  /** null: letterbox only (evaluation). */
  augment: AugmentOptions | null;
  seed: string;
  /** Decoded-image cache budget of this pipeline in bytes. */
  cacheBytes: number;
}

/** Where an image sits in its letterboxed square (before any augmentation). */
export interface ImageShape {
  width: number;
  height: number;
  ratio: number;
  padX: number;
  padY: number;
}

export interface BatchTask {
  epoch: number;
  index: number;
  /** Positions in the epoch's order, for the per-sample generators. */
  positions: number[];
  /** Sample indices. */
  indices: number[];
}

/** One batch: images NHWC [size, S, S, 3] in 0..1 and target rows [i, cls, cx, cy, w, h] normalized. */
export interface Batch {
  epoch: number;
  index: number;
  /** Images in this batch (the last batch of an epoch may be short). */
  size: number;
  imageSize: number;
  images: Float32Array;
  targets: Float32Array;
  numTargets: number;
  indices: number[];
  shapes: ImageShape[];
  /** Images that could not be read and were replaced by blank backgrounds. */
  warnings: string[];
}

const INV255 = Float32Array.from({ length: 256 }, (_, i) => i / 255);

/** Turns sample indices into ready batches: decode (cached), letterbox or augment, pack floats. */
export class SamplePipeline {
  private readonly cache = new Map<number, LoadedImage & { shape: { width: number; height: number } }>();
  private cachedBytes = 0;
  private warnings: string[] = [];

  constructor(
    private readonly samples: YoloSample[],
    private readonly config: PipelineConfig,
  ) {}

  /** Ultralytics load_image: decoded, long side resized to the image size; cached while it fits. */
  load(i: number): LoadedImage & { shape: { width: number; height: number } } {
    const hit = this.cache.get(i);
    if (hit) return hit;
    const sample = this.samples[i]!;
    let decoded: RgbImage;
    let boxes = sample.boxes;
    try {
      decoded = decodeImage(readFileSync(sample.image));
    } catch (err) {
      // Unreadable now (corrupt body behind a valid header, deleted file): a grey background
      // image stands in and the batch reports it; one bad file must not end a training run.
      this.warnings.push(`${sample.image}: ${(err as Error).message}: replaced by a blank image`);
      decoded = {
        width: sample.width,
        height: sample.height,
        data: new Uint8Array(sample.width * sample.height * 3).fill(114),
      };
      boxes = [];
    }
    const { image } = resizeLongSide(decoded, this.config.imageSize, this.config.augment !== null);
    const entry = { image, boxes, shape: { width: decoded.width, height: decoded.height } };
    if (this.cachedBytes + image.data.length <= this.config.cacheBytes) {
      this.cache.set(i, entry);
      this.cachedBytes += image.data.length;
    }
    return entry;
  }

  /** One training/eval image at the square size, with labels normalized to it. */
  prepare(i: number, rng: DataRng): { image: RgbImage; boxes: LabelBox[]; shape: ImageShape } {
    const S = this.config.imageSize;
    const hyp = this.config.augment;
    const loaded = this.load(i);
    const lb = letterbox(loaded.image, S);
    const shape: ImageShape = {
      ...loaded.shape,
      ratio: lb.contentWidth / loaded.shape.width,
      padX: lb.padX,
      padY: lb.padY,
    };
    if (!hyp) return { image: lb.image, boxes: letterboxBoxes(loaded.boxes, lb), shape };
    let image: RgbImage;
    let px;
    if (hyp.mosaic > 0 && rng.chance(hyp.mosaic)) {
      const tiles = [loaded];
      for (let k = 0; k < 3; k++) tiles.push(this.load(rng.int(0, this.samples.length - 1)));
      const m = mosaic4(tiles, S, rng);
      ({ image, boxes: px } = randomAffine(m.image, m.boxes, rng, hyp, -S / 2));
    } else {
      const boxes = toPixelBoxes(letterboxBoxes(loaded.boxes, lb), S, S);
      ({ image, boxes: px } = randomAffine(lb.image, boxes, rng, hyp, 0));
    }
    // The warp may return its input: copy before the in-place colour and flip steps.
    if (image === lb.image) image = { ...image, data: image.data.slice() };
    augmentHsv(image, rng, hyp.hsvH, hyp.hsvS, hyp.hsvV);
    if (hyp.flipUD > 0 && rng.chance(hyp.flipUD)) px = flipVertical(image, px);
    if (hyp.flipLR > 0 && rng.chance(hyp.flipLR)) px = flipHorizontal(image, px);
    return { image, boxes: toLabelBoxes(px, S, S), shape };
  }

  assemble(task: BatchTask): Batch {
    const S = this.config.imageSize;
    const n = task.indices.length;
    const images = new Float32Array(n * S * S * 3);
    const rows: number[] = [];
    const shapes: ImageShape[] = [];
    this.warnings = [];
    for (let b = 0; b < n; b++) {
      // A generator per (seed, epoch, position): batches are identical whichever worker runs them.
      const rng = new DataRng(`${this.config.seed}|${task.epoch}|${task.positions[b]}`);
      const { image, boxes, shape } = this.prepare(task.indices[b]!, rng);
      const off = b * S * S * 3;
      const d = image.data;
      for (let k = 0; k < d.length; k++) images[off + k] = INV255[d[k]!]!;
      for (const bx of boxes) rows.push(b, bx.cls, bx.cx, bx.cy, bx.w, bx.h);
      shapes.push(shape);
    }
    return {
      epoch: task.epoch,
      index: task.index,
      size: n,
      imageSize: S,
      images,
      targets: Float32Array.from(rows),
      numTargets: rows.length / 6,
      indices: task.indices,
      shapes,
      warnings: this.warnings,
    };
  }
}

/** One labelled object, Ultralytics YOLO format: class and box centre/size normalized to the image. */
export interface LabelBox {
  cls: number;
  cx: number;
  cy: number;
  w: number;
  h: number;
}

/** An 8-bit RGB image, rows top to bottom, pixels interleaved (length width*height*3). */
export interface RgbImage {
  width: number;
  height: number;
  data: Uint8Array;
}

/** One image of a dataset split with its (validated) labels. Plain data: it crosses worker boundaries. */
export interface YoloSample {
  /** Absolute real path of the image. */
  image: string;
  /** Absolute real path of the label file; null for a background image without one. */
  label: string | null;
  width: number;
  height: number;
  boxes: LabelBox[];
}

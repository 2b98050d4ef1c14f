/**
 * The Ultralytics YOLOv5 v6+ layer table (models/yolov5s.yaml), as typed data.
 * Channel counts are the unscaled ones of yolov5l (width 1.0); `scaleRepeats` and
 * `scaleChannels` reproduce Ultralytics' parse_model exactly.
 */
export type BlockType = 'Conv' | 'C3' | 'SPPF' | 'Upsample' | 'Concat' | 'Detect';

export interface TableRow {
  /** Input rows: -1 is the previous row. */
  from: number[];
  repeats: number;
  block: BlockType;
  /** Output channels before width scaling (Conv, C3, SPPF). */
  channels?: number;
  kernel?: number;
  stride?: number;
  padding?: number;
  /** C3 only: residual shortcut inside its Bottlenecks (true in the backbone, false in the head). */
  shortcut?: boolean;
  /** SPPF only: max-pool kernel. */
  poolKernel?: number;
}

export const YOLOV5_TABLE: readonly TableRow[] = [
  // backbone
  { from: [-1], repeats: 1, block: 'Conv', channels: 64, kernel: 6, stride: 2, padding: 2 }, // 0 P1/2
  { from: [-1], repeats: 1, block: 'Conv', channels: 128, kernel: 3, stride: 2 }, // 1 P2/4
  { from: [-1], repeats: 3, block: 'C3', channels: 128, shortcut: true }, // 2
  { from: [-1], repeats: 1, block: 'Conv', channels: 256, kernel: 3, stride: 2 }, // 3 P3/8
  { from: [-1], repeats: 6, block: 'C3', channels: 256, shortcut: true }, // 4
  { from: [-1], repeats: 1, block: 'Conv', channels: 512, kernel: 3, stride: 2 }, // 5 P4/16
  { from: [-1], repeats: 9, block: 'C3', channels: 512, shortcut: true }, // 6
  { from: [-1], repeats: 1, block: 'Conv', channels: 1024, kernel: 3, stride: 2 }, // 7 P5/32
  { from: [-1], repeats: 3, block: 'C3', channels: 1024, shortcut: true }, // 8
  { from: [-1], repeats: 1, block: 'SPPF', channels: 1024, poolKernel: 5 }, // 9
  // head
  { from: [-1], repeats: 1, block: 'Conv', channels: 512, kernel: 1, stride: 1 }, // 10
  { from: [-1], repeats: 1, block: 'Upsample' }, // 11
  { from: [-1, 6], repeats: 1, block: 'Concat' }, // 12 cat backbone P4
  { from: [-1], repeats: 3, block: 'C3', channels: 512, shortcut: false }, // 13
  { from: [-1], repeats: 1, block: 'Conv', channels: 256, kernel: 1, stride: 1 }, // 14
  { from: [-1], repeats: 1, block: 'Upsample' }, // 15
  { from: [-1, 4], repeats: 1, block: 'Concat' }, // 16 cat backbone P3
  { from: [-1], repeats: 3, block: 'C3', channels: 256, shortcut: false }, // 17 P3/8 small
  { from: [-1], repeats: 1, block: 'Conv', channels: 256, kernel: 3, stride: 2 }, // 18
  { from: [-1, 14], repeats: 1, block: 'Concat' }, // 19 cat head P4
  { from: [-1], repeats: 3, block: 'C3', channels: 512, shortcut: false }, // 20 P4/16 medium
  { from: [-1], repeats: 1, block: 'Conv', channels: 512, kernel: 3, stride: 2 }, // 21
  { from: [-1, 10], repeats: 1, block: 'Concat' }, // 22 cat head P5
  { from: [-1], repeats: 3, block: 'C3', channels: 1024, shortcut: false }, // 23 P5/32 large
  { from: [17, 20, 23], repeats: 1, block: 'Detect' }, // 24
];

/** Anchors in pixels, three per level, for strides 8, 16, 32 (P3, P4, P5). */
export const YOLOV5_ANCHORS: readonly (readonly [number, number])[][] = [
  [
    [10, 13],
    [16, 30],
    [33, 23],
  ],
  [
    [30, 61],
    [62, 45],
    [59, 119],
  ],
  [
    [116, 90],
    [156, 198],
    [373, 326],
  ],
];
export const YOLOV5_STRIDES: readonly number[] = [8, 16, 32];
export const DETECT_ROW = 24;

/** Rows whose 3x3 convolutions may become depthwise-separable (the genome's `separable`). */
export const SEPARABLE_CONV_ROWS: readonly number[] = [1, 3, 5, 7, 18, 21];
export const SEPARABLE_C3_ROWS: readonly number[] = [2, 4, 6, 8, 13, 17, 20, 23];
export const SEPARABLE_ROWS: readonly number[] = [...SEPARABLE_CONV_ROWS, ...SEPARABLE_C3_ROWS].sort(
  (a, b) => a - b,
);

/** The published model scales: [depthMultiple, widthMultiple]. */
export const STANDARD_MODELS = {
  yolov5n: [0.33, 0.25],
  yolov5s: [0.33, 0.5],
  yolov5m: [0.67, 0.75],
  yolov5l: [1.0, 1.0],
  yolov5x: [1.33, 1.25],
} as const satisfies Record<string, readonly [number, number]>;
export type StandardModelName = keyof typeof STANDARD_MODELS;

/** parse_model: n = max(round(n * gd), 1) if n > 1 else n. Python's round is banker's rounding. */
export function scaleRepeats(n: number, depthMultiple: number): number {
  return n > 1 ? Math.max(pythonRound(n * depthMultiple), 1) : n;
}

/** parse_model: make_divisible(c * gw, 8) = ceil(c * gw / 8) * 8. */
export function scaleChannels(c: number, widthMultiple: number): number {
  return Math.ceil((c * widthMultiple) / 8) * 8;
}

/** Python 3 round(): halves go to the even neighbour. */
export function pythonRound(x: number): number {
  const floor = Math.floor(x);
  const diff = x - floor;
  if (Math.abs(diff - 0.5) < 1e-12) return floor % 2 === 0 ? floor : floor + 1;
  return Math.round(x);
}

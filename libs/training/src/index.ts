// Datasets: YOLO-format reading, synthetic data, letterbox/augmentation, batching off the event loop.
export * from './dataset/types';
export * from './dataset/image-io';
export * from './dataset/labels';
export * from './dataset/yolo-reader';
export * from './dataset/synth';
export * from './dataset/letterbox';
export * from './dataset/augment';
export * from './dataset/pipeline';
export * from './dataset/batch-loader';
export { DataRng, permutation } from './dataset/rng';
// Evaluation: decode, NMS, COCO-style mAP.
export * from './eval/boxes';
export * from './eval/decode';
export * from './eval/nms';
export * from './eval/map';
export * from './eval/evaluate-files';
// YOLOv5 loss, trainer (child-process runs), one trial evaluated for real.
export * from './loss';
export * from './trainer';
export * from './trial';

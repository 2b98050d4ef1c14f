// Weight-sharing supernet over a YOLOv5 search space: genomes of the space, weight extraction,
// sandwich-rule training with in-place distillation, BatchNorm recalibration, candidate scoring.
export * from './types';
export * from './space';
export * from './channels';
export * from './extract';
export * from './importance';
export * from './supernet-file';
export * from './recalibrate';
export * from './adapt';
export * from './train';
export * from './score';
export * from './scorer';

export * from './build-targets';
export * from './ops';
export * from './yolo-loss';
export * from './distill';

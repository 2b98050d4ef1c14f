export * from './genome';
export * from './yolov5-table';
export * from './ir';
export * from './build-ir';
export * from './cost';
export * from './describe';
export * from './weights';
export * from './ultralytics-yaml';

export * from './types';
export * from './schedule';
export * from './sgd';
export * from './ema';
export * from './evaluate';
export * from './train';
export * from './child-process';
export * from './precise-bn';

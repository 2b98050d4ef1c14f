export * from './profile';
export * from './predict';
export * from './calibrate';
export * from './accuracy';
export * from './preset';
export * from './files';
export * from './sampling';

export * from './scale';
export * from './svg-charts';
export * from './csv';
export * from './hypervolume';
export * from './importance';

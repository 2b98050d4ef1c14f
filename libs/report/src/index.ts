export * from './scale';
export * from './svg-charts';
export * from './csv';
export * from './label-placement';
export * from './hypervolume';
export * from './importance';

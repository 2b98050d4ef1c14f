export * from './scale';
export * from './svg-charts';
export * from './csv';
export * from './label-placement';

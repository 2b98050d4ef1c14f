export * from './run-trial';

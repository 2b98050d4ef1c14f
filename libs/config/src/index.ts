// The process's configuration (the only reader of process.env) and the DATA_ROOT confinement.
export * from './settings';
export * from './data-root';

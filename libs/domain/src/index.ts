// The project's vocabulary: one registry per extension axis, pure (no framework, no I/O).
export * from './trial-status';
export * from './objectives';
export * from './error-codes';
export * from './evaluators';
export * from './strategies';
export * from './genome-dimensions';
export * from './catalog';

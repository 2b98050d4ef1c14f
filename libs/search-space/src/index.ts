export * from './dimensions';
export * from './spec';

/** Injection tokens of the API module: the validated config and the ports it drives. */
export const API_CONFIG = Symbol('API_CONFIG');
export const ORCHESTRATOR = Symbol('ORCHESTRATOR');
export const CATALOG = Symbol('CATALOG');

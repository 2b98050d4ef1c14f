import { InitialSchema1764400000000 } from './1764400000000-InitialSchema';

/** Every migration, oldest first. Listed explicitly (no glob) so bundles and tests load the same set. */
export const MIGRATIONS = [InitialSchema1764400000000];

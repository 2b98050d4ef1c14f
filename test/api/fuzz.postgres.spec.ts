import { describe, it } from 'vitest';
import { POSTGRES_URL } from './helpers';
import { fuzzSuite } from './fuzz.suite';

// The same properties against real Postgres when DATABASE_URL is set.
if (POSTGRES_URL) fuzzSuite('postgres');
else describe.skip('fuzzing every route on postgres (DATABASE_URL not set)', () => it('skipped', () => {}));

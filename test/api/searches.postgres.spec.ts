import { describe, it } from 'vitest';
import { POSTGRES_URL } from './helpers';
import { searchApiSuite } from './search-api.suite';

// The same suite against real Postgres when DATABASE_URL is set (CI always sets it).
if (POSTGRES_URL) searchApiSuite('postgres');
else describe.skip('REST API end to end on postgres (DATABASE_URL not set)', () => it('skipped', () => {}));

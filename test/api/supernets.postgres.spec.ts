import { describe, it } from 'vitest';
import { POSTGRES_URL } from './helpers';
import { supernetApiSuite } from './supernets.suite';

if (POSTGRES_URL) supernetApiSuite('postgres');
else describe.skip('supernets REST API on postgres (DATABASE_URL not set)', () => it('skipped', () => {}));

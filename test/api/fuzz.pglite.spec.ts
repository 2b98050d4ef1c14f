import { fuzzSuite } from './fuzz.suite';

fuzzSuite('pglite');

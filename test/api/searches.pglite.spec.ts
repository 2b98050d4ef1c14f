import { searchApiSuite } from './search-api.suite';

searchApiSuite('pglite');

import { supernetApiSuite } from './supernets.suite';

supernetApiSuite('pglite');

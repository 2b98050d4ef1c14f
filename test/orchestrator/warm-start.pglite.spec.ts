import { warmStartSuite } from './warm-start.suite';

warmStartSuite(
  'PGlite (in memory)',
  () => ({ inMemory: true }),
  async () => {},
);

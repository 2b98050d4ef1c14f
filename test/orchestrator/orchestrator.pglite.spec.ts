import { orchestratorSuite } from './orchestrator-suite';

orchestratorSuite(
  'PGlite (in memory)',
  () => ({ inMemory: true }),
  async () => {},
);

import 'reflect-metadata';
import { Command } from 'commander';
import { registerDescribe } from './commands/describe';
import { registerServe } from './commands/serve';
import { registerDataset } from './commands/dataset';
import { registerEvaluate } from './commands/evaluate';
import { registerExport } from './commands/export';
import { registerLatency } from './commands/latency';
import { registerSearch } from './commands/search';
import { registerSupernet } from './commands/supernet';
import { registerTrain } from './commands/train';
import { registerExportYaml } from './commands/export-yaml';
import { registerWorker } from './commands/worker';
import { registerBenchStrategy } from './commands/bench-strategy';
import { setDetsearchHome } from '@detsearch/latency';
import { cliConfig, fail } from './cli-kit';

try {
  setDetsearchHome(cliConfig().DETSEARCH_HOME);
} catch (err) {
  fail(err);
}

const program = new Command();
program
  .name('detsearch')
  .description('Hardware-aware neural architecture search over YOLOv5 detectors')
  .showHelpAfterError()
  .configureOutput({ writeErr: (s) => process.stderr.write(s) })
  .exitOverride((err) => {
    if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version') process.exit(0);
    process.exit(2);
  });

registerDescribe(program);
registerSearch(program);
registerSupernet(program);
registerExportYaml(program);
registerBenchStrategy(program);
registerServe(program);
registerDataset(program);
registerEvaluate(program);
registerExport(program);
registerLatency(program);
registerTrain(program);
registerWorker(program);

program.parseAsync(process.argv).catch(fail);

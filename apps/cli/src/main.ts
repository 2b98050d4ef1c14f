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
import { registerSearchLifecycle } from './commands/lifecycle';
import { registerTrain } from './commands/train';
import { registerExportYaml } from './commands/export-yaml';
import { registerWorker } from './commands/worker';
import { registerBenchStrategy } from './commands/bench-strategy';
import { registerPredict } from './commands/predict';
import { registerPresets } from './commands/presets';
import { registerReport } from './commands/report';
import { registerArtifacts } from './commands/artifacts';
import { setDetsearchHome } from '@detsearch/latency';
import { cliConfig, fail } from './cli-kit';
import { packageVersion } from './version';

try {
  setDetsearchHome(cliConfig().DETSEARCH_HOME);
} catch (err) {
  fail(err);
}

const program = new Command();
program
  .name('detsearch')
  .description('Hardware-aware neural architecture search over YOLOv5 detectors')
  .version(packageVersion(), '-V, --version', 'the detsearch version')
  // Bad usage is one line on stderr ('detsearch: ...', exit 2); `--help` shows the rest.
  .configureOutput({
    writeErr: (s) =>
      process.stderr.write(
        s.startsWith('error: ')
          ? `detsearch: ${s
              .slice(7)
              .trim()
              .replace(/\s*\n\s*/g, ' ')}\n`
          : s,
      ),
  })
  .exitOverride((err) => {
    if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version') process.exit(0);
    process.exit(2);
  });

registerDescribe(program);
registerSearch(program);
registerSupernet(program);
registerSearchLifecycle(program);
registerExportYaml(program);
registerBenchStrategy(program);
registerServe(program);
registerDataset(program);
registerEvaluate(program);
registerExport(program);
registerLatency(program);
registerTrain(program);
registerWorker(program);
registerPresets(program);
registerArtifacts(program);
registerPredict(program);
registerReport(program);

program.parseAsync(process.argv).catch(fail);

import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { parseGenome, toUltralyticsYaml, type Genome } from '@detsearch/genome';
import { SearchOrchestrator } from '@detsearch/orchestrator';
import { action, cliConfig, readJsonOrFile, UsageError } from '../cli-kit';

interface ExportYamlOptions {
  trial?: string;
  genome?: string;
  out?: string;
  json?: boolean;
}

export function registerExportYaml(program: Command): void {
  program
    .command('export-yaml')
    .description(
      "a trial's architecture as an Ultralytics YOLOv5 model yaml (train it at full scale with their tools)",
    )
    .option('--trial <id>', 'trial id (from the embedded database, or DATABASE_URL)')
    .option('--genome <file|json>', 'or a genome')
    .option('--out <file>', 'write the yaml here instead of stdout')
    .option('--json', 'one JSON object on stdout')
    .action(
      action<ExportYamlOptions>(async (o) => {
        if (!o.trial === !o.genome)
          throw new UsageError('export-yaml: give exactly one of --trial or --genome');
        let genome: Genome;
        if (o.trial) {
          const orchestrator = await SearchOrchestrator.open({
            databaseUrl: cliConfig().DATABASE_URL,
            home: cliConfig().DETSEARCH_HOME,
            resumeOrphans: false,
          });
          try {
            genome = (await orchestrator.getTrial(o.trial)).genome;
          } finally {
            await orchestrator.close();
          }
        } else genome = parseGenome(readJsonOrFile(o.genome!, 'genome'));
        const yaml = toUltralyticsYaml(genome);
        if (o.out) writeFileSync(o.out, yaml);
        return {
          json: { path: o.out ?? null, genome, yaml },
          text: o.out ? `wrote ${o.out}` : yaml.trimEnd(),
        };
      }),
    );
}

import { resolve } from 'node:path';
import type { Command } from 'commander';
import { action } from '../cli-kit';
import { LocalSearchClient } from '../search-client';
import { writeSearchOutputs } from '../search-outputs';
import { openReadOnly } from '../trial-ref';

export function registerReport(program: Command): void {
  program
    .command('report')
    .description(
      "write a search's runs/<id> folder (leaderboard, Pareto front, plots, front models), e.g. for one the server ran",
    )
    .argument('<id>', 'search id (GET /searches lists them)')
    .option('--out <dir>', 'output folder (default runs/<search id>)')
    .option('--json', 'one JSON object on stdout')
    .action(async (id: string, opts: { out?: string; json?: boolean }, cmd: Command) =>
      action<{ out?: string; json?: boolean }>(async (o) => {
        const orchestrator = await openReadOnly();
        try {
          const search = await orchestrator.getSearch(id);
          if (search.status === 'queued' || search.status === 'running')
            process.stderr.write(
              `detsearch: note: search ${id} is still ${search.status}; this is a snapshot\n`,
            );
          const outputs = await writeSearchOutputs(
            new LocalSearchClient(orchestrator, 'this database'),
            search,
            resolve(o.out ?? `runs/${id}`),
          );
          const json = {
            searchId: id,
            status: search.status,
            trials: search.progress,
            out: outputs.dir,
            files: outputs.files,
            models: outputs.models,
            dataset: outputs.dataset,
          };
          const text = [
            `search ${id} ${search.status}: ${search.progress.completed} completed, ${search.progress.pruned} pruned, ${search.progress.failed} failed`,
            outputs.dataset.synthetic ? `NOTE: ${outputs.dataset.note}` : '',
            `wrote ${outputs.files.length} files and ${outputs.models.length} ONNX models to ${outputs.dir}`,
          ]
            .filter(Boolean)
            .join('\n');
          return { json, text };
        } finally {
          await orchestrator.close();
        }
      })(opts, cmd),
    );
}

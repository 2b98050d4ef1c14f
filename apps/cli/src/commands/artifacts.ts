import type { Command } from 'commander';
import { action, parseIntOption } from '../cli-kit';
import { openReadOnly } from '../trial-ref';

const mb = (bytes: number) => `${(bytes / 1e6).toFixed(2)} MB`;

/** `detsearch artifacts ID` (a search's artifacts and their sizes) and `detsearch gc` (orphans). */
export function registerArtifacts(program: Command): void {
  program
    .command('artifacts')
    .description(
      "a search's artifacts in the artifact store (ARTIFACT_STORE): models and weights, sizes, checksums",
    )
    .argument('<id>', 'search id')
    .option('--json', 'one JSON object on stdout')
    .action(async (id: string, opts: { json?: boolean }, cmd: Command) =>
      action<{ json?: boolean }>(async () => {
        const orchestrator = await openReadOnly();
        try {
          const view = await orchestrator.searchArtifacts(id);
          const text = [
            `search ${view.searchId}: ${view.count} artifacts, ${mb(view.bytes)} in the ${view.store} store (${orchestrator.artifacts.location})`,
            ...view.items.map((i) => `${String(i.size).padStart(12)}  ${i.sha256.slice(0, 12)}  ${i.key}`),
          ].join('\n');
          return { json: view, text };
        } finally {
          await orchestrator.close();
        }
      })(opts, cmd),
    );

  program
    .command('gc')
    .description(
      'remove artifacts whose search, trial or supernet no longer exists (and superseded attempts), and uploads a killed writer left',
    )
    .option('--dry-run', 'list what would be removed; remove nothing')
    .option(
      '--pending-older-than <minutes>',
      'uncommitted uploads older than this are a dead writer’s (default 60)',
      parseIntOption('pending-older-than', 0, 10_000_000),
    )
    .option('--json', 'one JSON object on stdout')
    .action((opts: { dryRun?: boolean; pendingOlderThan?: number; json?: boolean }, cmd: Command) =>
      action<{ dryRun?: boolean; pendingOlderThan?: number; json?: boolean }>(async (o) => {
        const orchestrator = await openReadOnly();
        try {
          const r = await orchestrator.collectGarbage({
            dryRun: Boolean(o.dryRun),
            pendingOlderThanMs: (o.pendingOlderThan ?? 60) * 60_000,
          });
          const verb = r.dryRun ? 'would remove' : 'removed';
          const text = [
            `${r.store} store (${r.location}): ${r.scanned} artifacts scanned; ${verb} ${r.orphans.length} orphans (${mb(r.orphanBytes)}) and ${r.pending.removed} stale pending uploads (${mb(r.pending.bytes)})`,
            ...r.orphans.map((x) => `  ${x.key} (${x.size} bytes)`),
          ].join('\n');
          return { json: r, text };
        } finally {
          await orchestrator.close();
        }
      })(opts, cmd),
    );
}

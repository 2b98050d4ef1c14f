import type { Command } from 'commander';
import type { SearchView } from '@detsearch/orchestrator';
import { action, formatTable, parseIntOption, UsageError } from '../cli-kit';
import { isActive, openSearchClient } from '../search-client';
import { followToEnd } from './search';

const STATUSES = ['queued', 'running', 'completed', 'failed', 'cancelled'] as const;

function summary(s: SearchView) {
  return {
    id: s.id,
    name: s.name,
    status: s.status,
    evaluator: s.evaluator,
    progress: s.progress,
    best: s.best ? { map50_95: s.best.map50_95, latencyMs: s.best.latencyMs } : null,
    createdAt: s.createdAt,
    error: s.error,
  };
}

function requireId(id: string): string {
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id))
    throw new UsageError(`ID: expected a search id (a UUID as printed by detsearch search), got '${id}'`);
  return id.toLowerCase();
}

/**
 * `searches`, `resume ID`, `cancel ID`: on DATABASE_URL, on the embedded database when no server
 * holds it, or through the `detsearch serve` that does.
 */
export function registerSearchLifecycle(program: Command): void {
  program
    .command('searches')
    .description('list searches (newest first): id, status, progress, best mAP')
    .option('--status <s>', `only searches in this state (${STATUSES.join(' | ')})`)
    .option('--limit <n>', 'at most this many', parseIntOption('limit', 1, 1000), 50)
    .option('--json', 'one JSON object on stdout')
    .action(
      action<{ status?: string; limit: number; json?: boolean }>(async (o) => {
        if (o.status !== undefined && !(STATUSES as readonly string[]).includes(o.status))
          throw new UsageError(`--status: expected one of ${STATUSES.join(', ')}, got '${o.status}'`);
        const client = await openSearchClient();
        try {
          const items = await client.listSearches({
            limit: o.limit,
            ...(o.status ? { status: o.status as SearchView['status'] } : {}),
          });
          const table = formatTable(
            ['id', 'status', 'trials', 'best mAP@.5:.95', 'evaluator', 'name'],
            items.map((s) => [
              s.id,
              s.status,
              `${s.progress.completed + s.progress.pruned + s.progress.failed}/${s.progress.budget}`,
              s.best ? s.best.map50_95.toFixed(3) : '-',
              s.evaluator,
              s.name.length > 40 ? `${s.name.slice(0, 39)}…` : s.name,
            ]),
          );
          return {
            json: { searches: items.map(summary), source: client.where },
            text: items.length ? table : `no searches (${client.where})`,
          };
        } finally {
          await client.close();
        }
      }),
    );

  program
    .command('cancel')
    .description('stop a queued or running search (it stays stopped until `detsearch resume ID`)')
    .argument('<id>', 'search id')
    .option('--json', 'one JSON object on stdout')
    .action((rawId: string, opts: { json?: boolean }, cmd: Command) =>
      action<{ json?: boolean }>(async () => {
        const id = requireId(rawId);
        const client = await openSearchClient();
        try {
          const s = await client.cancel(id);
          return {
            json: summary(s),
            text: `search ${id} ${s.status}; resume it with: detsearch resume ${id}`,
          };
        } finally {
          await client.close();
        }
      })(opts, cmd),
    );

  program
    .command('resume')
    .description(
      'continue a stopped (cancelled, interrupted, failed) or crashed search; follows it to the end and writes its outputs',
    )
    .argument('<id>', 'search id')
    .option('--out <dir>', 'where to write leaderboard, Pareto front, plots and models', 'runs/<search id>')
    .option('--detach', 'with a server: return once it resumed instead of following it')
    .option('--no-progress', 'no progress line on stderr')
    .option('--json', 'one JSON object on stdout')
    .action((rawId: string, opts: ResumeOptions, cmd: Command) =>
      action<ResumeOptions>(async (o) => {
        const id = requireId(rawId);
        const client = await openSearchClient();
        try {
          const s = await client.resume(id);
          process.stderr.write(`detsearch: resumed search ${id} (${client.where})\n`);
          if (o.detach && client.kind === 'http')
            return { json: summary(s), text: `search ${id} ${s.status} on ${client.where}` };
          if (!isActive(s) && s.status !== 'completed')
            throw new Error(`search ${id} is ${s.status} after resume`);
          return await followToEnd(client, id, o);
        } finally {
          await client.close();
        }
      })(opts, cmd),
    );
}

interface ResumeOptions {
  out?: string;
  detach?: boolean;
  progress?: boolean;
  json?: boolean;
}

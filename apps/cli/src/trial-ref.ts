import { artifactOptionsFromConfig } from '@detsearch/artifacts';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { SearchOrchestrator, type Trial } from '@detsearch/orchestrator';
import { cliConfig, UsageError } from './cli-kit';

/** The orchestrator for commands that only read (no search is resumed by opening it). */
export function openReadOnly(): Promise<SearchOrchestrator> {
  const config = cliConfig();
  return SearchOrchestrator.open({
    databaseUrl: config.DATABASE_URL,
    home: config.DETSEARCH_HOME,
    artifacts: artifactOptionsFromConfig(config),
    dataRoot: config.DATA_ROOT,
    ...(config.DETSEARCH_DB_SCHEMA ? { schema: config.DETSEARCH_DB_SCHEMA } : {}),
    resumeOrphans: false,
  });
}

/**
 * A trial named on the command line: its id, or its number within `--search ID` (the number the
 * progress line, leaderboard.csv and the plots show).
 */
export async function findTrial(
  orchestrator: SearchOrchestrator,
  ref: string,
  searchId: string | undefined,
): Promise<Trial> {
  if (!/^\d+$/.test(ref)) return orchestrator.getTrial(ref);
  if (!searchId)
    throw new UsageError(
      `--trial: '${ref}' is a trial number: give its search too (--search ID), or the trial id`,
    );
  const n = Number(ref);
  await orchestrator.getSearch(searchId);
  // Numbers are dense from 0, so the n-th row by number is usually the one; scan if not.
  const direct = await orchestrator.listTrials(searchId, { sort: 'number', limit: 1, offset: n });
  if (direct.items[0]?.number === n) return direct.items[0];
  for (let offset = 0; ; offset += 500) {
    const page = await orchestrator.listTrials(searchId, { sort: 'number', limit: 500, offset });
    const hit = page.items.find((t) => t.number === n);
    if (hit) return hit;
    if (page.items.length < 500)
      throw new UsageError(`--trial: search ${searchId} has no trial number ${n} (it has ${page.total})`);
  }
}

/**
 * A local file of a trial's trained weights: fetched from the artifact store into `scratch`
 * (checked against its checksum) whatever machine trained it, or a legacy row's file on this disk.
 */
export async function trialWeightsFile(
  orchestrator: SearchOrchestrator,
  trial: Trial,
  scratch: string,
  home = cliConfig().DETSEARCH_HOME,
): Promise<string | null> {
  const stored = await orchestrator.trialWeightsToFile(trial, join(scratch, 'weights.safetensors'));
  if (stored) return stored;
  const legacy = join(resolve(home), 'trials', trial.searchId, trial.id, 'weights.safetensors');
  return existsSync(legacy) ? legacy : null;
}

import { namesOf } from './names';
/** Every state a trial row can be in; `terminal` ones never change again. */
export const TRIAL_STATUS_TABLE = [
  { name: 'queued', terminal: false },
  { name: 'running', terminal: false },
  { name: 'completed', terminal: true },
  { name: 'pruned', terminal: true },
  { name: 'failed', terminal: true },
] as const;

export type TrialStatus = (typeof TRIAL_STATUS_TABLE)[number]['name'];
export const TRIAL_STATUSES = namesOf(TRIAL_STATUS_TABLE);
/** Statuses after which a trial never changes again. */
export const FINISHED_TRIAL_STATUSES: readonly TrialStatus[] = TRIAL_STATUS_TABLE.filter(
  (s) => s.terminal,
).map((s) => s.name);

export function isTrialStatus(name: string): name is TrialStatus {
  return (TRIAL_STATUSES as readonly string[]).includes(name);
}

export const SEARCH_STATUSES = ['queued', 'running', 'completed', 'cancelled', 'failed'] as const;
export type SearchStatus = (typeof SEARCH_STATUSES)[number];

/** RFC 4180 CSV: fields with commas, quotes or newlines are quoted, quotes doubled. */
export function csvField(v: unknown): string {
  if (v === null || v === undefined) return '';
  const s = typeof v === 'object' ? JSON.stringify(v) : String(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function toCsv<T extends Record<string, unknown>>(rows: T[], columns: (keyof T & string)[]): string {
  const lines = [columns.join(',')];
  for (const r of rows) lines.push(columns.map((c) => csvField(r[c])).join(','));
  return `${lines.join('\n')}\n`;
}

/** The leaderboard's CSV columns, in order: the CLI's leaderboard.csv and the API's format=csv. */
export const LEADERBOARD_COLUMNS = [
  'number',
  'id',
  'status',
  'feasible',
  'map50_95',
  'map50',
  'fp32Map50_95',
  'latencyMs',
  'measuredLatencyMs',
  'latencySource',
  'latencyProvenance',
  'params',
  'gflops',
  'sizeBytes',
  'violation',
  'onFront',
  'epochsDone',
  'epochs',
  'reused',
  'reusedFromTrialId',
  'estimateMap50_95',
  'estimateMap50',
  'finetunedMap50_95',
  'finetunedMap50',
  'finetunedMap50_95Std',
  'finetunedMap50Std',
  'finetuneEpochs',
  'finetuneSeeds',
  'backend',
  'evaluator',
  'genomeKey',
  'genome',
  'error',
] as const;

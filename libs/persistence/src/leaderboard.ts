import { DomainError } from '@detsearch/common';
import type { Trial, TrialSort, TrialSortKey } from './types';
import { RANK_SORT, TRIAL_SORT_KEYS } from './types';

/**
 * The leaderboard's ordering, keyset cursors and row projection (TrialRepository.list and
 * .leaderboard). Every order is `<col> ASC|DESC NULLS LAST, number ASC`, the exact shape of an
 * index of migration LeaderboardSortIndexes, so pages and cursors are index range scans.
 */

type SqlType = 'int' | 'float8' | 'timestamptz';

interface SortColumn {
  column: string;
  type: SqlType;
}

const SORT_COLUMNS: Record<TrialSortKey, SortColumn> = {
  number: { column: 'number', type: 'int' },
  map50_95: { column: 'map50_95', type: 'float8' },
  map50: { column: 'map50', type: 'float8' },
  latencyMs: { column: 'latency_ms', type: 'float8' },
  params: { column: 'params', type: 'int' },
  gflops: { column: 'gflops', type: 'float8' },
  sizeBytes: { column: 'size_bytes', type: 'int' },
  createdAt: { column: 'created_at', type: 'timestamptz' },
  finishedAt: { column: 'finished_at', type: 'timestamptz' },
};

/** A sort request resolved: the key, its direction and the SQL that orders by it. */
export interface ResolvedSort {
  /** As the caller wrote it, normalized ('-params'); cursors carry it. */
  sort: TrialSort;
  key: TrialSortKey;
  desc: boolean;
  column: string;
  type: SqlType;
  orderBy: string;
  /** The sort value as the cursor stores it (timestamps as UTC ISO text with microseconds). */
  cursorKeySql: string;
  /** The ranked order: groups by `rank_tier` (feasible completed first) before the column. */
  ranked: boolean;
}

/** Number of rank tiers (migration LeaderboardRankTier): 0..RANK_TIERS-1. */
export const RANK_TIERS = 4;
/** The tiers of trials within every constraint (completed, pruned) and of those over one. */
export const FEASIBLE_TIERS = [0, 1];
export const INFEASIBLE_TIERS = [2];

export function resolveSort(sort: string): ResolvedSort {
  if (sort === RANK_SORT)
    return {
      sort: RANK_SORT,
      key: 'map50_95',
      desc: true,
      column: 'map50_95',
      type: 'float8',
      orderBy: 'rank_tier ASC, map50_95 DESC NULLS LAST, number ASC',
      cursorKeySql: 'map50_95',
      ranked: true,
    };
  const desc = sort.startsWith('-');
  const key = (desc ? sort.slice(1) : sort) as TrialSortKey;
  if (!(TRIAL_SORT_KEYS as readonly string[]).includes(key))
    throw new DomainError(
      'TRIALS.INVALID_SORT',
      `sort: unknown key '${key}'; expected ${RANK_SORT} or one of ${TRIAL_SORT_KEYS.join(', ')} (prefix '-' for descending)`,
      'sort',
    );
  const { column, type } = SORT_COLUMNS[key];
  const dir = desc ? 'DESC' : 'ASC';
  // `number` is unique and NOT NULL: ordered alone, the (search_id, number) key serves both
  // directions. Any other column: NULLS LAST either way (unfinished trials sink to the bottom of
  // every leaderboard), then the trial number ascending to break ties stably.
  const orderBy = key === 'number' ? `number ${dir}` : `${column} ${dir} NULLS LAST, number ASC`;
  const cursorKeySql =
    type === 'timestamptz'
      ? `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`
      : column;
  return { sort: sort as TrialSort, key, desc, column, type, orderBy, cursorKeySql, ranked: false };
}

/** Where a page ends: the last row's sort value and trial number. */
export interface CursorPosition {
  /** null: the row's sort value is NULL (the tail of the order). Floats: NaN/±Infinity as text. */
  value: number | string | null;
  number: number;
  /** The row's rank tier (ranked order only). */
  tier?: number;
}

interface CursorPayload {
  /** The sort the cursor was issued for. */
  s: string;
  /** Sort value of the last row. */
  k: number | string | null;
  /** Trial number of the last row. */
  n: number;
  /** Rank tier of the last row (ranked order only). */
  t?: number;
}

export function encodeCursor(sort: ResolvedSort, position: CursorPosition): string {
  const payload: CursorPayload = { s: sort.sort, k: position.value, n: position.number };
  if (sort.ranked) payload.t = position.tier ?? 0;
  return Buffer.from(JSON.stringify(payload), 'utf8').toString('base64url');
}

/** The cursor value of a raw row (`cursor_key` as selected by `cursorKeySql`). */
export function cursorValueOf(raw: unknown): number | string | null {
  if (raw === null || raw === undefined) return null;
  if (typeof raw === 'number') return Number.isFinite(raw) ? raw : String(raw);
  return String(raw);
}

const INT32_MAX = 2 ** 31 - 1;
const NON_FINITE = new Set(['NaN', 'Infinity', '-Infinity']);
const ISO_MICROS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;

/**
 * A real instant in the years a trial can have: Date.parse rolls 2024-02-30 over to March and
 * accepts year 0000, which Postgres rejects, so the date must survive the round trip.
 */
function isCursorTimestamp(k: string): boolean {
  if (!ISO_MICROS.test(k)) return false;
  const ms = Date.parse(k);
  if (isNaN(ms)) return false;
  const year = Number(k.slice(0, 4));
  return year >= 1970 && new Date(ms).toISOString().slice(0, 19) === k.slice(0, 19);
}

const invalid = (why: string) =>
  new DomainError(
    'TRIALS.INVALID_CURSOR',
    `after: ${why}; pass the nextCursor of a page with the same sort`,
    'after',
  );

/** Parses an `after` cursor for this sort; a 400 naming `after` when it is not one of ours. */
export function decodeCursor(raw: string, sort: ResolvedSort): CursorPosition {
  let payload: unknown;
  try {
    if (!/^[A-Za-z0-9_-]+$/.test(raw)) throw new Error('not base64url');
    payload = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8'));
  } catch {
    throw invalid('not a leaderboard cursor');
  }
  const p = payload as Partial<CursorPayload> | null;
  if (typeof p !== 'object' || p === null || Array.isArray(p) || typeof p.s !== 'string')
    throw invalid('not a leaderboard cursor');
  if (p.s !== sort.sort) throw invalid(`the cursor is for sort '${p.s}', not '${sort.sort}'`);
  const n = p.n;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n > INT32_MAX)
    throw invalid('not a leaderboard cursor (bad trial number)');
  const k = p.k;
  const ok =
    sort.key === 'number'
      ? k === n
      : k === null ||
        (sort.type === 'int' && Number.isInteger(k) && Math.abs(k as number) <= INT32_MAX) ||
        (sort.type === 'float8' &&
          ((typeof k === 'number' && Number.isFinite(k)) || (typeof k === 'string' && NON_FINITE.has(k)))) ||
        (sort.type === 'timestamptz' && typeof k === 'string' && isCursorTimestamp(k));
  if (!ok || k === undefined) throw invalid(`not a leaderboard cursor (bad ${sort.key} value)`);
  if (!sort.ranked) return { value: k, number: n };
  const t = p.t;
  if (typeof t !== 'number' || !Number.isInteger(t) || t < 0 || t >= RANK_TIERS)
    throw invalid('not a leaderboard cursor (bad rank tier)');
  return { value: k, number: n, tier: t };
}

/**
 * The rows after `pos` in `sort`'s order, as disjoint predicates in that order (each one an
 * index range on its own; an OR of them would not be): the tie group of the cursor's value past
 * its trial number, the values strictly beyond it, then the NULLs. `param` binds a value and
 * returns its placeholder.
 */
export function keysetBranches(
  sort: ResolvedSort,
  pos: CursorPosition,
  param: (value: unknown) => string,
): string[] {
  if (sort.ranked) {
    // Within the cursor's tier the plain order of its column, then every later tier.
    const plain = resolveSort(`-${sort.key}`);
    const tier = `${param(pos.tier ?? 0)}::smallint`;
    return [
      ...keysetBranches(plain, pos, param).map((b) => `rank_tier = ${tier} AND ${b}`),
      `rank_tier > ${tier}`,
    ];
  }
  const n = `${param(pos.number)}::int`;
  if (sort.key === 'number') return [`number ${sort.desc ? '<' : '>'} ${n}`];
  const c = sort.column;
  if (pos.value === null) return [`${c} IS NULL AND number > ${n}`];
  const v = `${param(pos.value)}::${sort.type}`;
  return [`${c} = ${v} AND number > ${n}`, `${c} ${sort.desc ? '<' : '>'} ${v}`, `${c} IS NULL`];
}

/**
 * What a leaderboard row carries: what the table and its charts show, not the strategy's
 * search-space point, the per-epoch curve, notes, per-profile latencies, the lease (worker,
 * attempts, heartbeat) or file paths. GET /trials/:id returns every field.
 */
export const LEADERBOARD_FIELDS = [
  'id',
  'searchId',
  'number',
  'status',
  'genome',
  'genomeKey',
  'epochs',
  'epochsDone',
  'rung',
  'imageSize',
  'map50',
  'map50_95',
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
  'feasible',
  'evaluator',
  'backend',
  'error',
  'createdAt',
  'startedAt',
  'finishedAt',
  'estimateMap50',
  'estimateMap50_95',
  'finetunedMap50',
  'finetunedMap50_95',
  'finetunedMap50Std',
  'finetunedMap50_95Std',
  'finetuneEpochs',
  'finetuneSeeds',
  'reused',
  'reusedFromTrialId',
] as const satisfies readonly (keyof Trial)[];

export type LeaderboardTrial = Pick<Trial, (typeof LEADERBOARD_FIELDS)[number]>;

/** Field name -> column (the rest are spelled the same). */
const COLUMN_OF: Partial<Record<(typeof LEADERBOARD_FIELDS)[number], string>> = {
  searchId: 'search_id',
  genomeKey: 'genome_key',
  epochsDone: 'epochs_done',
  imageSize: 'image_size',
  fp32Map50_95: 'fp32_map50_95',
  latencyMs: 'latency_ms',
  measuredLatencyMs: 'measured_latency_ms',
  latencySource: 'latency_source',
  latencyProvenance: 'latency_provenance',
  sizeBytes: 'size_bytes',
  onFront: 'on_front',
  createdAt: 'created_at',
  startedAt: 'started_at',
  finishedAt: 'finished_at',
  estimateMap50: 'estimate_map50',
  estimateMap50_95: 'estimate_map50_95',
  finetunedMap50: 'finetuned_map50',
  finetunedMap50_95: 'finetuned_map50_95',
  finetunedMap50Std: 'finetuned_map50_std',
  finetunedMap50_95Std: 'finetuned_map50_95_std',
  finetuneEpochs: 'finetune_epochs',
  finetuneSeeds: 'finetune_seeds',
  reusedFromTrialId: 'reused_from_trial_id',
};

/** Fields derived from other columns (rows.ts), not selected themselves. */
const DERIVED_FIELDS: ReadonlySet<string> = new Set(['feasible']);

/** The columns of LEADERBOARD_FIELDS, for the SELECT list. */
export const LEADERBOARD_COLUMNS = LEADERBOARD_FIELDS.filter((f) => !DERIVED_FIELDS.has(f))
  .map((f) => COLUMN_OF[f] ?? f)
  .join(', ');

export function toLeaderboardTrial(t: Trial): LeaderboardTrial {
  const out: Partial<Record<keyof Trial, unknown>> = {};
  for (const f of LEADERBOARD_FIELDS) out[f] = t[f];
  return out as LeaderboardTrial;
}

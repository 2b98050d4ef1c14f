import { OBJECTIVE_TABLE, type ObjectiveName } from '@detsearch/domain';
import { dominates } from '@detsearch/strategies';
import type { Sql } from './data-source';

/** Column and direction of each objective, from the objective registry. */
export const OBJECTIVE_COLUMNS = Object.fromEntries(
  OBJECTIVE_TABLE.map((o) => [o.name, { column: o.column, maximize: o.direction === 'maximize' }]),
) as Record<ObjectiveName, { column: string; maximize: boolean }>;

const FEASIBLE = `status = 'completed' AND coalesce(violation, 0) <= 0`;

/**
 * Ids of the non-dominated feasible completed trials of a search, computed from scratch (the
 * maintained `on_front` flags make this unnecessary on the read path; it backs recomputeFront).
 *
 * Two objectives: Postgres pre-filters with one window scan (a point can be on the front only if
 * no earlier point in (f1, f2) order beats its f2), so only the front and its ties leave the
 * database; the exact check runs here. Three objectives: the minimized vectors are fetched and
 * swept in lexicographic order against the growing front.
 */
export async function paretoFront(
  sql: Sql,
  searchId: string,
  objectives: ObjectiveName[],
): Promise<{ ids: string[]; considered: number }> {
  const cols = objectives.map((o) => OBJECTIVE_COLUMNS[o]);
  const notNull = cols.map((c) => `${c.column} IS NOT NULL`).join(' AND ');
  const [{ n }] = await sql.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM trials WHERE search_id = $1 AND ${FEASIBLE} AND ${notNull}`,
    [searchId],
  );
  if (n === 0) return { ids: [], considered: 0 };
  const select = cols.map((c, i) => `${c.maximize ? '-' : ''}${c.column}::float8 AS f${i}`).join(', ');
  let rows: Record<string, unknown>[];
  if (cols.length === 2) {
    const [a, b] = cols as [(typeof cols)[0], (typeof cols)[0]];
    const dir = (c: typeof a) => (c.maximize ? 'DESC' : 'ASC');
    const bestB = b.maximize ? 'max' : 'min';
    const beats = b.maximize ? '>=' : '<=';
    rows = await sql.query(
      `SELECT id, number, f0, f1 FROM (
         SELECT id, number, ${select}, ${b.column} AS b,
           ${bestB}(${b.column}) OVER (ORDER BY ${a.column} ${dir(a)}, ${b.column} ${dir(b)}, number
             ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS prev
         FROM trials WHERE search_id = $1 AND ${FEASIBLE} AND ${notNull}) t
       WHERE prev IS NULL OR b ${beats} prev`,
      [searchId],
    );
  } else {
    rows = await sql.query(
      `SELECT id, number, ${select} FROM trials WHERE search_id = $1 AND ${FEASIBLE} AND ${notNull}`,
      [searchId],
    );
  }
  const points = rows.map((r) => ({
    id: String(r.id),
    number: Number(r.number),
    f: cols.map((_, i) => Number(r[`f${i}`])),
  }));
  const front = nonDominated(points.map((p) => p.f));
  return { ids: front.map((i) => points[i]!.id), considered: n! };
}

/**
 * Recomputes a search's `on_front` flags from scratch (after bulk inserts that bypass
 * TrialRepository.finish, or to repair). Run it in a transaction when trials may complete
 * meanwhile; returns the front size.
 */
export async function recomputeFront(sql: Sql, searchId: string): Promise<number> {
  const [s] = await sql.query<{ objectives: ObjectiveName[] }>(
    // NO KEY UPDATE: serializes with TrialRepository.finish without blocking trial inserts' FK checks.
    `SELECT objectives FROM searches WHERE id = $1 FOR NO KEY UPDATE`,
    [searchId],
  );
  if (!s) return 0;
  const { ids } = await paretoFront(sql, searchId, s.objectives);
  await sql.query(`UPDATE trials SET on_front = false WHERE search_id = $1 AND on_front`, [searchId]);
  if (ids.length > 0) await sql.query(`UPDATE trials SET on_front = true WHERE id = ANY($1::uuid[])`, [ids]);
  return ids.length;
}

/**
 * Indices of the non-dominated points (minimization), equal points all kept, in lexicographic
 * order. Sorted lexicographically, a point can only be dominated by an earlier one, and if it is,
 * then by one already on the front; so each point is checked against the front alone.
 */
export function nonDominated(points: number[][]): number[] {
  const order = points.map((_, i) => i).sort((i, j) => lexCompare(points[i]!, points[j]!) || i - j);
  const front: number[] = [];
  for (const i of order) {
    const p = points[i]!;
    if (!front.some((k) => dominates(points[k]!, p))) front.push(i);
  }
  return front;
}

function lexCompare(a: number[], b: number[]): number {
  for (let k = 0; k < a.length; k++) if (a[k] !== b[k]) return a[k]! - b[k]!;
  return 0;
}

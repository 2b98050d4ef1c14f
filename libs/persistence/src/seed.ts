import { randomUUID } from 'node:crypto';
import seedrandom from 'seedrandom';
import type { Sql } from './data-source';
import { recomputeFront } from './pareto';

export interface SeedTrialsOptions {
  seed?: string | number;
  /** Number given to the first seeded trial (default: after the search's last one). */
  startNumber?: number;
  /** Rows per INSERT (default 5,000). */
  chunk?: number;
  /** Fraction of seeded trials that are pruned / failed (the rest completed). */
  pruned?: number;
  failed?: number;
}

const WIDTHS = [0.25, 0.375, 0.5, 0.625, 0.75, 0.875, 1, 1.125, 1.25];
const DEPTHS = [0.33, 0.5, 0.67, 0.83, 1, 1.17, 1.33];

/**
 * Bulk-inserts `n` synthetic finished trials into a search (benchmarks, load tests): plausible
 * genomes, mAP rising and latency rising with model size, with noise. One multi-row
 * INSERT ... SELECT FROM unnest(...) per chunk, then the Pareto flags are recomputed once.
 * Not for real data: each row's notes say it is synthetic.
 */
export async function seedTrials(
  sql: Sql,
  searchId: string,
  n: number,
  options: SeedTrialsOptions = {},
): Promise<number> {
  const rng = seedrandom(String(options.seed ?? 'seed-trials'));
  const chunk = options.chunk ?? 5000;
  let next =
    options.startNumber ??
    (
      await sql.query<{ n: number }>(
        `SELECT coalesce(max(number) + 1, 0)::int AS n FROM trials WHERE search_id = $1`,
        [searchId],
      )
    )[0]!.n;
  const pPruned = options.pruned ?? 0.2;
  const pFailed = options.failed ?? 0.02;
  let inserted = 0;
  while (inserted < n) {
    const m = Math.min(chunk, n - inserted);
    const cols = {
      id: [] as string[],
      number: [] as number[],
      genome: [] as string[],
      key: [] as string[],
      params: [] as string[],
      status: [] as string[],
      map50: [] as (number | null)[],
      map: [] as (number | null)[],
      latency: [] as number[],
      nparams: [] as number[],
      gflops: [] as number[],
      size: [] as number[],
      objectives: [] as (string | null)[],
    };
    for (let i = 0; i < m; i++) {
      const w = WIDTHS[Math.floor(rng() * WIDTHS.length)]!;
      const d = DEPTHS[Math.floor(rng() * DEPTHS.length)]!;
      const img = 160 + 32 * Math.floor(rng() * 16);
      const scale = w * w * (0.4 + 0.6 * d);
      const nparams = Math.round(7.2e6 * scale * (0.8 + 0.4 * rng()));
      const gflops = 16.5 * scale * (img / 640) ** 2 * (0.8 + 0.4 * rng());
      const r = rng();
      const status = r < pFailed ? 'failed' : r < pFailed + pPruned ? 'pruned' : 'completed';
      const map = status === 'failed' ? null : Math.min(0.6, 0.12 + 0.09 * Math.log1p(gflops) + 0.03 * rng());
      const latency = 0.5 + gflops * (1.5 + rng());
      const genome = {
        depthMultiple: d,
        widthMultiple: w,
        numClasses: 80,
        imageSize: img,
        separable: [],
        activation: 'silu',
        quantization: { precision: 'fp32' },
      };
      cols.id.push(randomUUID());
      cols.number.push(next++);
      cols.genome.push(JSON.stringify(genome));
      cols.key.push(`d${d}|w${w}|nc80|i${img}|s|silu|fp32`);
      cols.params.push(JSON.stringify({ depthMultiple: d, widthMultiple: w, imageSize: img }));
      cols.status.push(status);
      cols.map50.push(map === null ? null : Math.min(0.95, map * 1.55));
      cols.map.push(map);
      cols.latency.push(latency);
      cols.nparams.push(nparams);
      cols.gflops.push(gflops);
      cols.size.push(nparams * 4);
      cols.objectives.push(map === null ? null : JSON.stringify([-map, latency]));
    }
    await sql.query(
      `INSERT INTO trials (id, search_id, number, genome, genome_key, search_params, status, epochs, epochs_done,
         map50, map50_95, latency_ms, params, gflops, size_bytes, objective_values, violation, backend, evaluator,
         notes, started_at, finished_at)
       SELECT id, $2::uuid, number, genome, key, params, status, 9, CASE WHEN status = 'completed' THEN 9 ELSE 3 END,
         map50, map, latency, nparams, gflops, size, objectives, 0, 'synthetic', 'synthetic',
         'synthetic row from seedTrials (benchmark data, not a trained model)', now(), now()
       FROM unnest($1::uuid[], $3::int[], $4::jsonb[], $5::text[], $6::jsonb[], $7::text[], $8::float8[],
         $9::float8[], $10::float8[], $11::int[], $12::float8[], $13::int[], $14::jsonb[])
         AS t(id, number, genome, key, params, status, map50, map, latency, nparams, gflops, size, objectives)`,
      [
        cols.id,
        searchId,
        cols.number,
        cols.genome,
        cols.key,
        cols.params,
        cols.status,
        cols.map50,
        cols.map,
        cols.latency,
        cols.nparams,
        cols.gflops,
        cols.size,
        cols.objectives,
      ],
    );
    inserted += m;
  }
  // Seeded rows bypass TrialRepository.finish, which keeps the front; derive it once here.
  await recomputeFront(sql, searchId);
  return inserted;
}

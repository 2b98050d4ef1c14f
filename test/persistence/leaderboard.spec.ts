import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DomainError } from '@detsearch/common';
import {
  decodeCursor,
  encodeCursor,
  LEADERBOARD_FIELDS,
  resolveSort,
  SearchRepository,
  TRIAL_SORT_KEYS,
  TrialRepository,
  type Database,
  type Trial,
  type TrialSort,
  type TrialStatus,
} from '@detsearch/persistence';
import { newSearch, newTrial } from './repository-contract';
import { openTarget, testTargets } from './helpers';

const SORTS: TrialSort[] = TRIAL_SORT_KEYS.flatMap((k) => [k, `-${k}` as TrialSort]);
const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64url');

/** Rejects with a DomainError naming `field`. */
async function rejectsNaming(p: Promise<unknown>, field: string, text?: string): Promise<void> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(DomainError);
  expect((err as DomainError).field).toBe(field);
  expect((err as DomainError).message).toContain(field);
  if (text) expect((err as DomainError).message).toContain(text);
}

describe('leaderboard cursors (no database)', () => {
  it('round-trips a position for every sort', () => {
    for (const sort of SORTS) {
      const s = resolveSort(sort);
      const value =
        s.key === 'number'
          ? 17
          : s.type === 'timestamptz'
            ? '2026-11-29T01:26:49.361234Z'
            : s.type === 'int'
              ? 123456
              : 0.1 + 0.2;
      expect(decodeCursor(encodeCursor(s, { value, number: 17 }), s)).toEqual({ value, number: 17 });
      if (s.key !== 'number')
        expect(decodeCursor(encodeCursor(s, { value: null, number: 3 }), s)).toEqual({
          value: null,
          number: 3,
        });
    }
    const f = resolveSort('-gflops');
    expect(decodeCursor(encodeCursor(f, { value: 'NaN', number: 1 }), f).value).toBe('NaN');
  });

  it.each([
    ['not base64url', '!!!'],
    ['base64 of text', b64('hello')],
    ['a JSON array', b64('[1,2]')],
    ['JSON null', b64('null')],
    ['no number', b64(JSON.stringify({ s: '-params', k: 5 }))],
    ['a negative number', b64(JSON.stringify({ s: '-params', k: 5, n: -1 }))],
    ['a fractional number', b64(JSON.stringify({ s: '-params', k: 5, n: 1.5 }))],
    ['a text value for an integer column', b64(JSON.stringify({ s: '-params', k: '5', n: 1 }))],
    ['a fractional value for an integer column', b64(JSON.stringify({ s: '-params', k: 5.5, n: 1 }))],
    ['an integer out of range', b64(JSON.stringify({ s: '-params', k: 2 ** 40, n: 1 }))],
  ])('rejects %s naming after', (_what, raw) => {
    expect(() => decodeCursor(raw, resolveSort('-params'))).toThrow(DomainError);
    try {
      decodeCursor(raw, resolveSort('-params'));
    } catch (e) {
      expect((e as DomainError).field).toBe('after');
      expect((e as DomainError).code).toBe('TRIALS.INVALID_CURSOR');
    }
  });

  it('rejects a timestamp that is not UTC ISO with microseconds, and a cursor of another sort', () => {
    const created = resolveSort('createdAt');
    const bad = b64(JSON.stringify({ s: 'createdAt', k: 'yesterday', n: 1 }));
    expect(() => decodeCursor(bad, created)).toThrow(/after/);
    // Dates that Date.parse accepts but are not real instants Postgres can compare with.
    for (const k of [
      '2024-02-30T00:00:00.000000Z',
      '0000-01-01T00:00:00.000000Z',
      '2024-13-01T00:00:00.000000Z',
    ])
      expect(() => decodeCursor(b64(JSON.stringify({ s: 'createdAt', k, n: 1 })), created)).toThrow(
        /after: not a leaderboard cursor \(bad createdAt value\)/,
      );
    const other = encodeCursor(resolveSort('params'), { value: 5, number: 1 });
    expect(() => decodeCursor(other, resolveSort('-params'))).toThrow(/sort 'params', not '-params'/);
  });
});

for (const target of testTargets()) {
  describe(`leaderboard pages on ${target.kind}`, () => {
    let db: Database;
    let trials: TrialRepository;
    let searchId: string;
    let all: Trial[];
    const micros = new Map<number, { createdAt: number; finishedAt: number | null }>();

    beforeAll(async () => {
      db = await openTarget(target);
      const searches = new SearchRepository(db);
      trials = new TrialRepository(db);
      searchId = (await searches.create(newSearch())).id;
      // 40 trials in three INSERTs (created_at ties within each), with ties and NULLs in every
      // sortable column: a cursor must split a tie group by trial number.
      const rows = Array.from({ length: 40 }, (_, i) => ({
        ...newTrial(searchId, i),
        params: i % 9 === 8 ? null : 1000 * (i % 4),
        gflops: i % 3 === 0 ? null : (i % 5) / 3,
        sizeBytes: 4000 * (i % 6),
        latencyMs: i % 10 === 9 ? null : 1 + (i % 7) / 7,
      }));
      await trials.create(rows.slice(0, 15));
      await trials.create(rows.slice(15, 30));
      await trials.create(rows.slice(30));
      const created = (await trials.list(searchId, { limit: 1000 })).items;
      // 28 finished (ties in mAP), 4 running, 8 queued: mAP and finishedAt NULL for 12.
      for (const t of created.slice(0, 32)) {
        const { lease } = (await trials.claim(t.id, 'w'))!;
        if (t.number >= 28) continue;
        const map = Math.round((t.number % 6) * 0.7 * 100) / 1000;
        await trials.finish(t.id, lease, {
          status: t.number % 7 === 3 ? 'pruned' : 'completed',
          map50_95: map,
          map50: t.number % 5 === 0 ? null : map * 1.5,
          objectiveValues: [-map, t.latencyMs ?? 0],
          notes: `trial ${t.number}`,
          epochMetrics: [{ epoch: 1, map50_95: map, loss: 1 }],
        });
      }
      all = (await trials.list(searchId, { limit: 1000 })).items;
      expect(all).toHaveLength(40);
      // Timestamps to the microsecond (a Date keeps milliseconds; PGlite can be faster than that).
      const us = await db.query<{ number: number; c: string; f: string | null }>(
        `SELECT number, (extract(epoch FROM created_at) * 1000000)::bigint::text AS c,
           (extract(epoch FROM finished_at) * 1000000)::bigint::text AS f
         FROM trials WHERE search_id = $1`,
        [searchId],
      );
      for (const r of us)
        micros.set(Number(r.number), {
          createdAt: Number(r.c),
          finishedAt: r.f === null ? null : Number(r.f),
        });
    });
    afterAll(async () => {
      await db?.close();
      await target.cleanup();
    });

    /** The order the API promises: value (NULLs last either way), then number ascending. */
    function expected(sort: TrialSort, status?: TrialStatus): number[] {
      const s = resolveSort(sort);
      const val = (t: Trial): number | null => {
        if (s.key === 'createdAt' || s.key === 'finishedAt') return micros.get(t.number)![s.key];
        const v = t[s.key];
        return v === null ? null : Number(v);
      };
      return all
        .filter((t) => !status || t.status === status)
        .sort((a, b) => {
          if (s.key === 'number') return s.desc ? b.number - a.number : a.number - b.number;
          const va = val(a);
          const vb = val(b);
          if (va === null || vb === null) return va === vb ? a.number - b.number : va === null ? 1 : -1;
          return (s.desc ? vb - va : va - vb) || a.number - b.number;
        })
        .map((t) => t.number);
    }

    it.each(SORTS)('pages by %s: cursor pages equal offset pages, ties broken by number', async (sort) => {
      for (const [status, limit] of [
        [undefined, 8],
        ['completed', 3],
      ] as const) {
        const byCursor: number[] = [];
        const byOffset: number[] = [];
        let after: string | undefined;
        let offset = 0;
        for (let i = 0; ; i++) {
          expect(i).toBeLessThan(50);
          const c = await trials.leaderboard(searchId, { sort, status, limit, after });
          const o = await trials.leaderboard(searchId, { sort, status, limit, offset });
          expect(c.items.map((t) => t.number)).toEqual(o.items.map((t) => t.number));
          expect(c.nextCursor).toBe(o.nextCursor);
          expect(c.total).toBe(o.total);
          byCursor.push(...c.items.map((t) => t.number));
          byOffset.push(...o.items.map((t) => t.number));
          offset += limit;
          if (!c.nextCursor) {
            // The last page: nothing after it, even when it is full.
            expect(offset).toBeGreaterThanOrEqual(c.total);
            break;
          }
          after = c.nextCursor;
        }
        const want = expected(sort, status);
        // 40 rows at 8 a page: the fifth page is full and still the last.
        if (!status) expect(want).toHaveLength(40);
        expect(byCursor).toEqual(want);
        expect(byOffset).toEqual(want);
      }
    });

    it('continues from an offset page with its cursor', async () => {
      const whole = (await trials.leaderboard(searchId, { sort: '-map50_95', limit: 20 })).items;
      const first = await trials.leaderboard(searchId, { sort: '-map50_95', limit: 5, offset: 10 });
      const next = await trials.leaderboard(searchId, {
        sort: '-map50_95',
        limit: 5,
        after: first.nextCursor!,
        offset: 0,
      });
      expect(next.items.map((t) => t.id)).toEqual(whole.slice(15, 20).map((t) => t.id));
      expect(next.offset).toBe(0);
    });

    it('rejects a malformed cursor, one of another sort, and after with offset', async () => {
      await rejectsNaming(trials.leaderboard(searchId, { sort: 'params', after: 'garbage!' }), 'after');
      const cursor = (await trials.leaderboard(searchId, { sort: '-params', limit: 2 })).nextCursor!;
      await rejectsNaming(
        trials.leaderboard(searchId, { sort: 'params', after: cursor }),
        'after',
        '-params',
      );
      await rejectsNaming(trials.leaderboard(searchId, { after: cursor }), 'after');
      await rejectsNaming(
        trials.leaderboard(searchId, { sort: '-params', after: cursor, offset: 2 }),
        'offset',
        'after',
      );
      await rejectsNaming(trials.list(searchId, { sort: '-params', after: cursor, offset: 2 }), 'offset');
    });

    it('projects leaderboard rows; list and get keep every field', async () => {
      const page = await trials.leaderboard(searchId, { sort: 'number', limit: 40 });
      const full = await trials.list(searchId, { sort: 'number', limit: 40 });
      for (const [i, row] of page.items.entries()) {
        expect(Object.keys(row).sort()).toEqual([...LEADERBOARD_FIELDS].sort());
        for (const heavy of ['searchParams', 'epochMetrics', 'notes', 'workerId', 'onnxPath', 'attempts'])
          expect(row).not.toHaveProperty(heavy);
        // The fields it has are the trial's own.
        const f = full.items[i]!;
        for (const k of LEADERBOARD_FIELDS) expect(row[k]).toEqual(f[k]);
      }
      const detail = (await trials.get(page.items[0]!.id))!;
      expect(detail.searchParams).toEqual({ widthMultiple: 0.25 });
      expect(detail.epochMetrics).toHaveLength(1);
      expect(detail.notes).toBe('trial 0');
      expect(detail.workerId).toBe('w');
    });
  });
}

import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hypervolumeHistory } from '@detsearch/report';
import { listDatasets } from '../../apps/api/src/datasets/datasets.controller';
import { bootApp, parseCsv, POSTGRES_URL, waitFor, type TestApp } from './helpers';

const BUDGET = 16;

interface Row {
  id: string;
  number: number;
  status: string;
  feasible: boolean | null;
  map50_95: number | null;
  latencyMs: number | null;
  violation: number | null;
}

/** The routes the dashboard reads besides the contract's: ranked leaderboard, plots, curves, delete. */
describe(`dashboard routes on ${POSTGRES_URL ? 'postgres' : 'pglite'}`, () => {
  let t: TestApp;
  let id: string;
  let rows: Row[];

  beforeAll(async () => {
    t = await bootApp(POSTGRES_URL ? 'postgres' : 'pglite', 'dashapi');
    const created = await t
      .http()
      .post('/searches')
      .send({
        name: 'dash-api',
        strategy: 'random',
        objectives: ['map50_95', 'latency'],
        budget: { trials: BUDGET },
        seed: 5,
        hardwareProfile: 'jetson-orin-nano',
        // Tight enough that some trials break it, loose enough that some keep it.
        constraints: { maxLatencyMs: 9 },
        fidelity: { epochs: 3, minEpochs: 1, eta: 2 },
        evaluator: 'surrogate',
      })
      .expect(201);
    id = created.body.id;
    await waitFor(
      async () => ((await t.http().get(`/searches/${id}`)).body.status === 'completed' ? true : undefined),
      60_000,
      'the search to complete',
    );
    rows = (await t.http().get(`/searches/${id}/trials?sort=number&limit=1000`).expect(200)).body.items;
  }, 90_000);
  afterAll(async () => {
    await t?.close();
  });

  it('ranks feasible completed trials first by default; feasible is on every row', async () => {
    expect(rows).toHaveLength(BUDGET);
    for (const r of rows)
      expect(r.feasible).toBe(
        r.status === 'completed' || r.status === 'pruned' ? (r.violation ?? 0) <= 0 : null,
      );
    expect(rows.some((r) => r.feasible === false)).toBe(true);
    expect(rows.some((r) => r.feasible === true && r.status === 'completed')).toBe(true);

    const tier = (r: Row) =>
      r.status === 'completed' && r.feasible
        ? 0
        : r.status === 'pruned' && r.feasible
          ? 1
          : r.feasible === false
            ? 2
            : 3;
    const ranked: Row[] = (await t.http().get(`/searches/${id}/trials?limit=1000`).expect(200)).body.items;
    expect(ranked.map((r) => r.id).sort()).toEqual(rows.map((r) => r.id).sort());
    for (let i = 1; i < ranked.length; i++) {
      const [a, b] = [ranked[i - 1]!, ranked[i]!];
      expect(tier(a)).toBeLessThanOrEqual(tier(b));
      if (tier(a) === tier(b) && a.map50_95 !== null && b.map50_95 !== null)
        expect(a.map50_95).toBeGreaterThanOrEqual(b.map50_95);
    }

    // The keyset cursor walks the same order page by page.
    const walked: string[] = [];
    let after: string | null = null;
    do {
      const q: string = after ? `&after=${after}` : '';
      const page = (await t.http().get(`/searches/${id}/trials?sort=rank&limit=3${q}`).expect(200)).body;
      walked.push(...page.items.map((r: Row) => r.id));
      after = page.nextCursor;
    } while (after);
    expect(walked).toEqual(ranked.map((r) => r.id));
  });

  it('filters by feasibility (with status), totals counting the filter; 400 naming the field', async () => {
    for (const feasible of [true, false]) {
      const page = (await t.http().get(`/searches/${id}/trials?feasible=${feasible}&limit=1000`).expect(200))
        .body;
      const want = rows.filter((r) => r.feasible === feasible);
      expect(page.total).toBe(want.length);
      expect(page.items.map((r: Row) => r.id).sort()).toEqual(want.map((r) => r.id).sort());
    }
    const both = (
      await t.http().get(`/searches/${id}/trials?feasible=true&status=completed&limit=1000`).expect(200)
    ).body;
    expect(both.total).toBe(rows.filter((r) => r.feasible && r.status === 'completed').length);
    const bad = await t.http().get(`/searches/${id}/trials?feasible=maybe`).expect(400);
    expect(bad.body.message).toContain('feasible');
  });

  it('downloads the current view as CSV, every matching row in its order', async () => {
    const res = await t
      .http()
      .get(`/searches/${id}/trials?format=csv&feasible=false&sort=-latencyMs`)
      .expect(200);
    expect(res.headers['content-type']).toMatch(/^text\/csv/);
    const [header, ...body] = parseCsv(res.text).filter((r) => r.length > 1);
    expect(header).toContain('feasible');
    const want = rows
      .filter((r) => r.feasible === false)
      .sort((a, b) => b.latencyMs! - a.latencyMs! || a.number - b.number);
    expect(body.map((r) => Number(r[header!.indexOf('number')]))).toEqual(want.map((r) => r.number));
  });

  it('serves the hypervolume history the CLI computes (its changes only)', async () => {
    const hv = (await t.http().get(`/searches/${id}/hypervolume`).expect(200)).body;
    const full = hypervolumeHistory(rows);
    expect(hv.completed).toBe(full.completed);
    expect(hv.referenceLatencyMs).toBeCloseTo(full.referenceLatencyMs!, 9);
    expect(hv.steps.at(-1)).toEqual(full.steps.at(-1));
    for (const s of hv.steps) expect(full.steps[s.x - 1]).toEqual(s);
  });

  it('serves plot trials with the varying genome dimensions and their importance', async () => {
    const plot = (await t.http().get(`/searches/${id}/plot-trials?objective=latencyMs`).expect(200)).body;
    const withResults = rows.filter((r) => r.status === 'completed' || r.status === 'pruned');
    expect(plot.total).toBe(withResults.length);
    expect(plot.sampled).toBe(false);
    expect(plot.items).toHaveLength(withResults.length);
    expect(plot.dimensions).toEqual(expect.arrayContaining(['widthMultiple']));
    expect(plot.importance.objective).toBe('latencyMs');
    for (const d of plot.importance.dimensions) {
      expect(plot.dimensions).toContain(d.name);
      expect(d.importance).toBeGreaterThanOrEqual(0);
      expect(d.importance).toBeLessThanOrEqual(1);
    }
    const sampled = (await t.http().get(`/searches/${id}/plot-trials?limit=3`).expect(200)).body;
    expect(sampled.sampled).toBe(true);
    expect(sampled.items.length).toBeLessThan(withResults.length);
    await t.http().get(`/searches/${id}/plot-trials?objective=nope`).expect(400);
  });

  it('serves learning curves per search and per trial', async () => {
    const curves = (await t.http().get(`/searches/${id}/curves?limit=5`).expect(200)).body;
    expect(curves.items.length).toBeGreaterThan(0);
    expect(curves.items.length).toBeLessThanOrEqual(5);
    for (const c of curves.items) expect(c.epochMetrics.length).toBe(c.epochsDone);
    const one = (await t.http().get(`/trials/${curves.items[0].trialId}/curves`).expect(200)).body;
    expect(one.items[0]).toEqual(curves.items[0]);
    await t.http().get(`/trials/${randomUUID()}/curves`).expect(404);
  });

  it('DELETE /searches/:id: 404 unknown, 409 while running, 204 then gone with its trials', async () => {
    await t.http().delete(`/searches/${randomUUID()}`).expect(404);
    {
      // Slow trials, so the search is still running when it is asked to go.
      t.surrogate.msPerTrial = 200;
      const running = (
        await t
          .http()
          .post('/searches')
          .send({
            name: 'to-delete',
            strategy: 'random',
            hardwareProfile: 'jetson-orin-nano',
            fidelity: { epochs: 3, minEpochs: 1, eta: 2 },
            objectives: ['map50_95', 'latency'],
            budget: { trials: 50 },
            evaluator: 'surrogate',
            seed: 1,
          })
          .expect(201)
      ).body.id;
      const conflict = await t.http().delete(`/searches/${running}`).expect(409);
      expect(conflict.body.message).toMatch(/cancel/);
      await t.http().post(`/searches/${running}/cancel`).expect(200);
      await t.http().delete(`/searches/${running}`).expect(204);
      await t.http().get(`/searches/${running}`).expect(404);
      await t.http().get(`/searches/${running}/trials`).expect(404);
      t.surrogate.msPerTrial = 0;
    }
    await t.http().delete(`/searches/${id}`).expect(204);
    await t.http().get(`/trials/${rows[0]!.id}`).expect(404);
  });

  it('GET /datasets lists data.yaml files below DATA_ROOT as relative paths', async () => {
    const root = mkdtempSync(join(tmpdir(), 'detsearch-datasets-'));
    for (const dir of ['coco8', 'nested/voc', '.hidden', 'coco8/images/train'])
      mkdirSync(join(root, dir), { recursive: true });
    for (const f of [
      'coco8/data.yaml',
      'nested/voc/data.yaml',
      '.hidden/data.yaml',
      'coco8/images/train/data.yaml',
    ])
      writeFileSync(join(root, f), 'names: [a]\n');
    expect(await listDatasets(root)).toEqual({
      items: [{ path: 'coco8/data.yaml' }, { path: 'nested/voc/data.yaml' }],
      truncated: false,
    });
    const res = (await t.http().get('/datasets').expect(200)).body;
    expect(res).toMatchObject({ items: expect.any(Array), truncated: expect.any(Boolean) });
  });
});

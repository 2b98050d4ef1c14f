import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  bootApp,
  dominates,
  minimized,
  parseCsv,
  parseSse,
  waitFor,
  type Backend,
  type TestApp,
} from './helpers';

const KEY = 'e2e-api-key-0123';
const BUDGET = 24;

interface TrialRow {
  id: string;
  number: number;
  status: string;
  map50_95: number | null;
  latencyMs: number | null;
  params: number | null;
  sizeBytes: number | null;
  violation: number | null;
  genome: Record<string, unknown>;
}

/**
 * The REST API end to end against one database backend: launch a surrogate search, follow it,
 * read it back every way the contract offers, and check what bad input gets.
 */
export function searchApiSuite(backend: Backend): void {
  describe(`REST API end to end on ${backend}`, () => {
    let t: TestApp;
    let searchId: string;
    let all: TrialRow[];
    const post = (url: string) => t.http().post(url).set('x-api-key', KEY);
    const launch = {
      name: `e2e-${backend}`,
      strategy: 'nsga2',
      objectives: ['map50_95', 'latency'],
      budget: { trials: BUDGET },
      seed: 11,
      hardwareProfile: 'jetson-orin-nano',
      fidelity: { epochs: 4, minEpochs: 1, eta: 2 },
      evaluator: 'surrogate',
    };

    beforeAll(async () => {
      t = await bootApp(backend, 'e2e', { API_KEY: KEY });
    });
    afterAll(async () => {
      await t?.close();
    });

    it('launches a search (201 {id, status}) and follows its events until it ends', async () => {
      // Trials that take a little time (read per evaluation), so the stream has live events to carry.
      t.surrogate.msPerTrial = 100;
      const created = await post('/searches').send(launch).expect(201);
      expect(created.body).toEqual({ id: expect.any(String), status: expect.any(String) });
      searchId = created.body.id;

      // The SSE stream closes by itself when the search ends, so the buffered body is the whole run.
      const res = await t.http().get(`/searches/${searchId}/events`).buffer(true).timeout(90_000).expect(200);
      expect(res.headers['content-type']).toMatch(/^text\/event-stream/);
      t.surrogate.msPerTrial = 0;
      const events = parseSse(res.text).filter((e) => e.event !== 'heartbeat');
      expect(events[0]!.event).toBe('snapshot');
      // Ends with the completion event, or (on a machine slow enough that the search finished
      // before the stream opened) with a snapshot that already says completed.
      const last = events.at(-1)!;
      expect(['search-completed', 'snapshot']).toContain(last.event);
      expect(last.data).toMatchObject({ searchId, status: 'completed' });
      for (const e of events.filter((e) => e.event === 'trial-completed'))
        expect(e.data).toMatchObject({ searchId, trialId: expect.any(String), progress: { budget: BUDGET } });

      const search = (await t.http().get(`/searches/${searchId}`).expect(200)).body;
      expect(search).toMatchObject({
        id: searchId,
        status: 'completed',
        strategy: 'nsga2',
        evaluator: 'surrogate',
      });
      expect(search.progress).toMatchObject({ total: BUDGET, budget: BUDGET, queued: 0, running: 0 });
      expect(search.progress.completed + search.progress.pruned + search.progress.failed).toBe(BUDGET);
      expect(search.best).toMatchObject({ trialId: expect.any(String), map50_95: expect.any(Number) });

      const list = (await t.http().get('/searches').expect(200)).body as { id: string }[];
      expect(list.map((s) => s.id)).toContain(searchId);

      const page = (await t.http().get(`/searches/${searchId}/trials?limit=1000`).expect(200)).body;
      expect(page.total).toBe(BUDGET);
      all = page.items;
      expect(all).toHaveLength(BUDGET);
    });

    it.each([
      ['-map50_95', (r: TrialRow) => r.map50_95, 'desc'],
      ['map50_95', (r: TrialRow) => r.map50_95, 'asc'],
      ['latencyMs', (r: TrialRow) => r.latencyMs, 'asc'],
      ['-params', (r: TrialRow) => r.params, 'desc'],
      ['number', (r: TrialRow) => r.number, 'asc'],
    ] as const)('leaderboard sorted by %s', async (sort, key, direction) => {
      const res = await t
        .http()
        .get(`/searches/${searchId}/trials?sort=${sort}&status=completed&limit=1000`)
        .expect(200);
      const values = (res.body.items as TrialRow[]).map(key) as number[];
      expect(values.length).toBeGreaterThan(1);
      expect(values.every((v) => typeof v === 'number')).toBe(true);
      const sorted = [...values].sort((a, b) => (direction === 'asc' ? a - b : b - a));
      expect(values).toEqual(sorted);
    });

    it('filters by status; the statuses add up to the budget', async () => {
      let sum = 0;
      for (const status of ['queued', 'running', 'completed', 'pruned', 'failed']) {
        const res = await t
          .http()
          .get(`/searches/${searchId}/trials?status=${status}&limit=1000`)
          .expect(200);
        expect((res.body.items as TrialRow[]).every((r) => r.status === status)).toBe(true);
        expect(res.body.items).toHaveLength(res.body.total);
        sum += res.body.total;
      }
      expect(sum).toBe(BUDGET);
      const completed = all.filter((r) => r.status === 'completed').length;
      expect(completed).toBeGreaterThan(2);
    });

    it('paginates without gaps or overlaps', async () => {
      const url = `/searches/${searchId}/trials?sort=-map50_95`;
      const whole = (await t.http().get(`${url}&limit=20`).expect(200)).body.items as TrialRow[];
      const pages: TrialRow[] = [];
      for (let offset = 0; offset < 20; offset += 7) {
        const res = await t.http().get(`${url}&limit=7&offset=${offset}`).expect(200);
        expect(res.body).toMatchObject({ total: BUDGET, limit: 7, offset });
        pages.push(...res.body.items);
      }
      expect(pages.slice(0, 20).map((r) => r.id)).toEqual(whole.map((r) => r.id));
      const beyond = await t.http().get(`${url}&offset=${BUDGET}`).expect(200);
      expect(beyond.body.items).toEqual([]);
    });

    it.each(['-map50_95', 'latencyMs', '-params', '-number'])(
      'pages by cursor (%s): the rows of the offset pages; the last page has no cursor',
      async (sort) => {
        const url = `/searches/${searchId}/trials?sort=${sort}&limit=5`;
        const byOffset: string[] = [];
        for (let offset = 0; offset < BUDGET; offset += 5) {
          const res = await t.http().get(`${url}&offset=${offset}`).expect(200);
          byOffset.push(...(res.body.items as TrialRow[]).map((r) => r.id));
        }
        const byCursor: string[] = [];
        let next: string | null = null;
        for (let page = 0; page === 0 || next; page++) {
          expect(page).toBeLessThan(BUDGET);
          const path: string = next ? `${url}&after=${encodeURIComponent(next)}` : url;
          const body = (await t.http().get(path).expect(200)).body as {
            items: TrialRow[];
            nextCursor: string | null;
          };
          expect(body).toMatchObject({ total: BUDGET, limit: 5, offset: 0 });
          byCursor.push(...body.items.map((r) => r.id));
          next = body.nextCursor;
        }
        expect(byCursor).toEqual(byOffset);
        expect(new Set(byCursor).size).toBe(BUDGET);
      },
    );

    it('400 naming the field for a malformed cursor, a cursor of another sort, after with offset', async () => {
      const url = `/searches/${searchId}/trials`;
      const cursor = (await t.http().get(`${url}?sort=-params&limit=3`).expect(200)).body
        .nextCursor as string;
      expect(cursor).toEqual(expect.any(String));
      for (const [query, field] of [
        [`sort=-params&after=not-a-cursor`, 'after'],
        [`sort=-params&after=`, 'after'],
        [`sort=params&after=${cursor}`, 'after'],
        [`after=${cursor}`, 'after'],
        [`sort=-params&after=${cursor}&offset=3`, 'offset'],
        [`view=everything`, 'view'],
      ]) {
        const res = await t.http().get(`${url}?${query}`).expect(400);
        expect(res.body).toMatchObject({ statusCode: 400, error: 'Bad Request' });
        expect(res.body.message).toContain(field);
      }
      await t.http().get(`${url}?sort=-params&after=${cursor}&offset=0`).expect(200);
    });

    it('serves light leaderboard rows; view=full and GET /trials/:id carry every field', async () => {
      const heavy = ['searchParams', 'epochMetrics', 'notes', 'latencyPerProfile', 'workerId', 'onnxPath'];
      const light = (await t.http().get(`/searches/${searchId}/trials?sort=number&limit=3`).expect(200)).body;
      for (const row of light.items) {
        for (const k of heavy) expect(row).not.toHaveProperty(k);
        expect(row).toMatchObject({
          id: expect.any(String),
          genome: expect.any(Object),
          onFront: expect.any(Boolean),
        });
      }
      const full = (
        await t.http().get(`/searches/${searchId}/trials?sort=number&limit=3&view=full`).expect(200)
      ).body;
      expect(full.items.map((r: TrialRow) => r.id)).toEqual(light.items.map((r: TrialRow) => r.id));
      expect(full.nextCursor).toBe(light.nextCursor);
      const detail = (await t.http().get(`/trials/${light.items[0].id}`).expect(200)).body;
      for (const k of heavy) expect(detail).toHaveProperty(k);
      expect(detail.epochMetrics.length).toBeGreaterThan(0);
      expect(full.items[0]).toEqual(detail);
      // Every field of the light row is the trial's own.
      expect(detail).toMatchObject(light.items[0]);
    });

    it('exports the Pareto front as JSON: every point non-dominated, every non-dominated trial exported', async () => {
      const front = (await t.http().get(`/searches/${searchId}/pareto`).expect(200)).body;
      expect(front.objectives).toEqual(['map50_95', 'latency']);
      const feasible = all.filter((r) => r.status === 'completed' && (r.violation ?? 0) <= 0) as (TrialRow & {
        map50_95: number;
        latencyMs: number;
      })[];
      const vectors = new Map(feasible.map((r) => [r.id, minimized(r, front.objectives)]));
      const expected = feasible
        .filter((r) => !feasible.some((o) => dominates(vectors.get(o.id)!, vectors.get(r.id)!)))
        .map((r) => r.id)
        .sort();
      const exported = (front.points as { trialId: string }[]).map((p) => p.trialId).sort();
      expect(exported.length).toBeGreaterThan(0);
      expect(exported).toEqual(expected);
      expect(front.considered).toBe(feasible.length);
    });

    it('exports the same front as CSV with objectives, genome and trial id', async () => {
      const json = (await t.http().get(`/searches/${searchId}/pareto?format=json`).expect(200)).body;
      const res = await t.http().get(`/searches/${searchId}/pareto?format=csv`).expect(200);
      expect(res.headers['content-type']).toMatch(/^text\/csv/);
      const [header, ...rows] = parseCsv(res.text.trimEnd());
      expect(header).toEqual(expect.arrayContaining(['trial_id', 'map50_95', 'latency_ms', 'genome']));
      const idCol = header!.indexOf('trial_id');
      const genomeCol = header!.indexOf('genome');
      const mapCol = header!.indexOf('map50_95');
      expect(rows.map((r) => r[idCol]).sort()).toEqual(
        (json.points as { trialId: string }[]).map((p) => p.trialId).sort(),
      );
      for (const row of rows) {
        const point = json.points.find((p: { trialId: string }) => p.trialId === row[idCol]);
        expect(Number(row[mapCol])).toBeCloseTo(point.map50_95, 6);
        expect(JSON.parse(row[genomeCol]!)).toEqual(point.genome);
      }
    });

    it('serves one trial; a surrogate trial has no model file (404)', async () => {
      const trial = (await t.http().get(`/trials/${all[0]!.id}`).expect(200)).body;
      expect(trial).toMatchObject({ id: all[0]!.id, searchId, genome: expect.any(Object) });
      const model = await t.http().get(`/trials/${all[0]!.id}/model.onnx`).expect(404);
      expect(model.body).toMatchObject({ statusCode: 404, error: 'Not Found' });
    });

    it('404 for unknown ids on every route, in the error shape', async () => {
      const id = randomUUID();
      for (const url of [
        `/searches/${id}`,
        `/searches/${id}/trials`,
        `/searches/${id}/pareto`,
        `/searches/${id}/pareto?format=csv`,
        `/searches/${id}/events`,
        `/searches/${id}/hypervolume`,
        `/searches/${id}/plot-trials`,
        `/searches/${id}/curves`,
        `/trials/${id}`,
        `/trials/${id}/model.onnx`,
        `/trials/${id}/curves`,
        '/searches/not-a-uuid',
        '/searches/not-a-uuid/hypervolume',
        '/searches/not-a-uuid/plot-trials',
        '/searches/not-a-uuid/curves',
        '/trials/not-a-uuid',
        '/trials/not-a-uuid/curves',
      ]) {
        const res = await t.http().get(url);
        expect([url, res.status]).toEqual([url, 404]);
        expect(res.body).toMatchObject({ statusCode: 404, error: 'Not Found', message: expect.any(String) });
      }
      await post(`/searches/${id}/cancel`).expect(404);
      await post(`/searches/${id}/resume`).expect(404);
      await t.http().delete(`/searches/${id}`).set('x-api-key', KEY).expect(404);
      await t.http().delete('/searches/not-a-uuid').set('x-api-key', KEY).expect(404);
    });

    it.each([
      ['unknown strategy', { strategy: 'annealing' }, 'strategy'],
      ['unknown preset', { preset: 'no-such-preset' }, 'preset'],
      ['unknown hardware profile', { hardwareProfile: 'abacus' }, 'hardwareProfile'],
      [
        'malformed search space',
        { searchSpace: { depthMultiple: { type: 'ordinal', values: [9] } } },
        'searchSpace',
      ],
      ['search space with an unknown key', { searchSpace: { depth: 1 } }, 'searchSpace'],
      ['budget of zero trials', { budget: { trials: 0 } }, 'budget.trials'],
      ['budget too large', { budget: { trials: 100_001 } }, 'budget.trials'],
      ['budget of the wrong type', { budget: { trials: 'many' } }, 'budget.trials'],
      ['objectives of the wrong type', { objectives: 'map50_95' }, 'objectives'],
      ['objectives without mAP', { objectives: ['latency'] }, 'objectives'],
      ['seed of the wrong type', { seed: 'abc' }, 'seed'],
      ['unknown top-level field', { colour: 'blue' }, 'colour'],
      ['unknown nested field', { fidelity: { epochs: 2, warmup: 1 } }, 'fidelity.warmup'],
    ])('400 naming the field for %s, and nothing is created', async (_what, patch, field) => {
      const before = ((await t.http().get('/searches').expect(200)).body as unknown[]).length;
      const res = await post('/searches').send({ ...launch, ...patch });
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ statusCode: 400, error: 'Bad Request' });
      expect(res.body.message).toContain(field);
      const after = ((await t.http().get('/searches').expect(200)).body as unknown[]).length;
      expect(after).toBe(before);
    });

    it('estimates a launch without creating anything; a bad body is a 400 naming the field', async () => {
      const before = (await t.http().get('/searches').expect(200)).body.length;
      const res = await post('/searches/estimate').send(launch).expect(200);
      expect(res.body).toMatchObject({
        trials: BUDGET,
        evaluator: 'surrogate',
        dataset: { synthetic: true },
      });
      expect(res.body.seconds).toBeGreaterThanOrEqual(0);
      expect(res.body.seconds).toBeLessThan(120);
      expect(res.body.perTrialSeconds).toBeLessThan(5);
      expect(res.body.basis).toMatch(/surrogate/);
      const bad = await post('/searches/estimate')
        .send({ ...launch, budget: { trials: 0 } })
        .expect(400);
      expect(bad.body.message).toContain('budget.trials');
      expect((await t.http().get('/searches').expect(200)).body.length).toBe(before);
    });

    it('401 on mutating routes without a valid API key; nothing created; reads stay open', async () => {
      const before = ((await t.http().get('/searches').expect(200)).body as unknown[]).length;
      const none = await t.http().post('/searches').send(launch).expect(401);
      expect(none.body).toMatchObject({ statusCode: 401, error: 'Unauthorized' });
      await t.http().post('/searches').set('x-api-key', `${KEY}x`).send(launch).expect(401);
      await t.http().post('/searches').set('authorization', 'Bearer nope').send(launch).expect(401);
      await t.http().post(`/searches/${searchId}/cancel`).expect(401);
      expect(((await t.http().get('/searches').expect(200)).body as unknown[]).length).toBe(before);
    });

    it('cancels a running search and resumes it to exactly its budget', async () => {
      // Slow trials (read per evaluation) so the cancel lands mid-search.
      t.surrogate.msPerTrial = 150;
      const created = await post('/searches')
        .send({ ...launch, name: 'cancel-me', budget: { trials: 12 }, fidelity: { epochs: 1 } })
        .expect(201);
      const id = created.body.id as string;
      const cancelled = await post(`/searches/${id}/cancel`).expect(200);
      expect(cancelled.body).toMatchObject({ id });
      await waitFor(
        async () => ((await t.http().get(`/searches/${id}`)).body.status === 'cancelled' ? true : undefined),
        30_000,
        'cancelled',
      );
      t.surrogate.msPerTrial = 0;
      await post(`/searches/${id}/resume`).expect(200);
      const done = await waitFor(
        async () => {
          const s = (await t.http().get(`/searches/${id}`)).body;
          return s.status === 'completed' ? s : undefined;
        },
        60_000,
        'resumed search to complete',
      );
      expect(done.progress.total).toBe(12);
      expect(done.progress.completed + done.progress.pruned).toBe(12);
      // Over: neither cancel nor resume applies any more.
      const conflict = await post(`/searches/${id}/resume`).expect(409);
      expect(conflict.body).toMatchObject({ statusCode: 409, error: 'Conflict' });
    });

    it('reports health with the database and Prometheus metrics', async () => {
      const health = (await t.http().get('/health').expect(200)).body;
      expect(health).toMatchObject({ ok: true, database: { kind: backend, ok: true } });
      const metrics = (await t.http().get('/metrics').expect(200)).text;
      expect(metrics).toMatch(/detsearch_searches_created_total [1-9]/);
      expect(metrics).toContain(`detsearch_trials{status="completed"}`);
      const completed = Number(/detsearch_trials\{status="completed"\} (\d+)/.exec(metrics)?.[1]);
      expect(completed).toBeGreaterThanOrEqual(all.filter((r) => r.status === 'completed').length);
      expect(metrics).toMatch(/http_request_duration_seconds_bucket\{.*route="\/searches\/:id\/trials"/);
    });
  });
}

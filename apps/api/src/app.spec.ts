import { createHash } from 'node:crypto';
import type { NestExpressApplication } from '@nestjs/platform-express';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from './create-app';
import { FakeOrchestrator, fakeId } from './testing/fake-orchestrator';

const S1 = fakeId('s', 1);
const T1 = fakeId('t', 1);
const T9 = fakeId('t', 9);
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildOpenApiDocument } from './openapi';
import { OPENAPI_PATH } from './write-openapi';

const KEY = 'test-key-0123456789';
const valid = {
  strategy: 'random',
  objectives: ['map50_95', 'latency'],
  budget: { trials: 4 },
  evaluator: 'surrogate',
};

describe('API edge (fake orchestrator, no database)', () => {
  let app: NestExpressApplication;
  const orchestrator = new FakeOrchestrator();
  const http = () => request(app.getHttpServer());
  const post = (url: string) => http().post(url).set('x-api-key', KEY);

  beforeAll(async () => {
    app = await createApp({
      env: {},
      config: { API_KEY: KEY, LOG_LEVEL: 'silent', BODY_LIMIT: '8kb' },
      orchestrator,
    });
  });
  afterAll(async () => {
    await app.close();
    expect(orchestrator.closed).toBe(true);
  });

  it('creates a search: 201 {id, status}, body passed through', async () => {
    const res = await post('/searches').send(valid).expect(201);
    expect(res.body).toEqual({ id: S1, status: 'queued' });
    expect(orchestrator.created.at(-1)).toMatchObject(valid);
  });

  it.each([
    [{ ...valid, strategy: 'annealing' }, 'strategy'],
    [{ ...valid, budget: { trials: 0 } }, 'budget.trials'],
    [{ ...valid, budget: { trials: 1_000_001 } }, 'budget.trials'],
    [{ ...valid, budget: { trials: '4' } }, 'budget.trials'],
    [{ ...valid, budget: 4 }, 'budget'],
    [{ ...valid, budget: { trials: 4, extra: 1 } }, 'budget.extra'],
    [{ ...valid, objectives: 'map50_95' }, 'objectives'],
    [{ ...valid, seed: 1.5 }, 'seed'],
    [{ ...valid, evaluator: 'oracle' }, 'evaluator'],
    [{ ...valid, colour: 'red' }, 'colour'],
    [{ ...valid, searchSpace: 'yolov5' }, 'searchSpace'],
    [{ ...valid, preset: 'no-such-preset' }, 'preset'],
  ])('400 naming the field for %j', async (body, field) => {
    const before = orchestrator.created.length;
    const res = await post('/searches').send(body).expect(400);
    expect(res.body).toMatchObject({ statusCode: 400, error: 'Bad Request', field });
    expect(res.body.message).toContain(field);
    expect(orchestrator.created.length).toBe(before);
  });

  it('estimates a launch: 200 {seconds, perTrialSeconds, trials, basis}; 400 naming the field', async () => {
    const before = orchestrator.created.length;
    const res = await post('/searches/estimate').send(valid).expect(200);
    expect(res.body).toMatchObject({ trials: valid.budget.trials, basis: expect.any(String) });
    expect(typeof res.body.seconds).toBe('number');
    expect(typeof res.body.perTrialSeconds).toBe('number');
    await post('/searches/estimate')
      .send({ ...valid, strategy: 'annealing' })
      .expect(400);
    expect(orchestrator.created.length).toBe(before);
  });

  it('401 on mutating routes without a valid key; reads stay open; Bearer works', async () => {
    await http().post('/searches').send(valid).expect(401);
    await http().post('/searches').set('x-api-key', 'wrong').send(valid).expect(401);
    const res = await http().post(`/searches/${S1}/resume`).expect(401);
    expect(res.body).toMatchObject({ statusCode: 401, error: 'Unauthorized' });
    await http().post(`/searches/${S1}/resume`).set('authorization', `Bearer ${KEY}`).expect(200);
    await http().get(`/searches/${S1}`).expect(200);
  });

  it('maps domain codes: NOT_FOUND 404, conflicts 409', async () => {
    const missing = await http().get('/searches/nope').expect(404);
    expect(missing.body).toMatchObject({ statusCode: 404, error: 'Not Found', code: 'SEARCH.NOT_FOUND' });
    await http().get(`/trials/${T1}`).expect(404);
    await http().get(`/trials/${T1}/model.onnx`).expect(404);
    await post(`/searches/${S1}/cancel`).expect(409);
  });

  it('streams a trial model as an attachment', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'api-model-'));
    const bytes = Buffer.from([8, 7, 18, 3, 0, 255, 1, 2]);
    writeFileSync(join(dir, 'model.onnx'), bytes);
    orchestrator.models.set(T9, join(dir, 'model.onnx'));
    const res = await http()
      .get(`/trials/${T9}/model.onnx`)
      .buffer(true)
      .parse((r, done) => {
        const chunks: Buffer[] = [];
        r.on('data', (c: Buffer) => chunks.push(c));
        r.on('end', () => done(null, Buffer.concat(chunks)));
      })
      .expect(200);
    expect(res.headers['content-type']).toBe('application/octet-stream');
    expect(res.headers['content-disposition']).toContain(`trial-${T9}.onnx`);
    expect(Buffer.compare(res.body as Buffer, bytes)).toBe(0);
    const sha = createHash('sha256').update(bytes).digest('hex');
    expect(res.headers['content-length']).toBe(String(bytes.length));
    expect(res.headers['x-checksum-sha256']).toBe(sha);
    expect(res.headers['etag']).toBe(`"sha256-${sha}"`);
    expect(res.headers['digest']).toBe(`sha-256=${Buffer.from(sha, 'hex').toString('base64')}`);
    rmSync(dir, { recursive: true });
  });

  it('413 for a body over the limit, 400 for malformed JSON, both in the error shape', async () => {
    const big = await post('/searches')
      .send({ ...valid, name: 'x'.repeat(10_000) })
      .expect(413);
    expect(big.body).toMatchObject({ statusCode: 413, error: 'Payload Too Large' });
    const bad = await post('/searches')
      .set('content-type', 'application/json')
      .send('{"strategy":')
      .expect(400);
    expect(bad.body).toMatchObject({ statusCode: 400, error: 'Bad Request' });
  });

  it('validates leaderboard queries and converts numbers', async () => {
    await http().get(`/searches/${S1}/trials?sort=-map50_95&limit=5&offset=10&status=completed`).expect(200);
    expect(orchestrator.trialQueries.at(-1)).toEqual({
      sort: '-map50_95',
      limit: 5,
      offset: 10,
      status: 'completed',
    });
    // view picks the projection (full: the orchestrator's listTrials); after passes through as it is.
    await http().get(`/searches/${S1}/trials?view=full&after=abc_-1`).expect(200);
    expect(orchestrator.trialQueries.at(-1)).toEqual({ after: 'abc_-1', sort: 'rank', view: 'full' });
    // Without a sort, the ranked order (feasible completed first); feasible becomes a boolean.
    const page = await http().get(`/searches/${S1}/trials?view=leaderboard&feasible=false`).expect(200);
    expect(page.body).toMatchObject({ items: [], nextCursor: null });
    expect(orchestrator.trialQueries.at(-1)).toEqual({ sort: 'rank', feasible: false });
    expect((await http().get(`/searches/${S1}/trials?feasible=yes`).expect(400)).body.field).toBe('feasible');
    expect((await http().get(`/searches/${S1}/trials?after=`).expect(400)).body.field).toBe('after');
    expect(
      (
        await http()
          .get(`/searches/${S1}/trials?after=${'a'.repeat(513)}`)
          .expect(400)
      ).body.field,
    ).toBe('after');
    const res = await http().get(`/searches/${S1}/trials?sort=-colour`).expect(400);
    expect(res.body.field).toBe('sort');
    expect((await http().get(`/searches/${S1}/trials?limit=0`).expect(400)).body.field).toBe('limit');
    expect((await http().get(`/searches/${S1}/trials?status=done`).expect(400)).body.field).toBe('status');
  });

  it('exports the Pareto front as CSV', async () => {
    const res = await http().get(`/searches/${S1}/pareto?format=csv`).expect(200);
    expect(res.headers['content-type']).toMatch(/^text\/csv/);
    expect(res.text.split('\n')[0]).toBe('trialId,map50_95,latencyMs');
    expect((await http().get(`/searches/${S1}/pareto?format=xml`).expect(400)).body.field).toBe('format');
  });

  it('streams events as SSE and ends the stream; 404 before streaming for an unknown search', async () => {
    const res = await http().get(`/searches/${S1}/events`).expect(200);
    expect(res.headers['content-type']).toMatch(/^text\/event-stream/);
    const events = res.text.split('\n\n').filter((b) => b.trim());
    expect(events).toHaveLength(3);
    expect(events[0]).toContain('event: snapshot');
    expect(events[2]).toContain('event: search-completed');
    await http().get('/searches/nope/events').expect(404);
  });

  it('serves health, metrics and the OpenAPI document', async () => {
    expect((await http().get('/health').expect(200)).body).toMatchObject({
      ok: true,
      database: { ok: true },
    });
    orchestrator.healthy = false;
    expect((await http().get('/health').expect(503)).body).toMatchObject({ statusCode: 503 });
    orchestrator.healthy = true;
    const metrics = await http().get('/metrics').expect(200);
    expect(metrics.text).toContain('detsearch_searches_created_total 1');
    expect(metrics.text).toMatch(
      /http_request_duration_seconds_count\{method="POST",route="\/searches",status="201"\}/,
    );
    expect(metrics.text).toContain('process_cpu_user_seconds_total');
    expect(metrics.text).toContain(`detsearch_searches{status="running"} ${orchestrator.created.length}`);
    expect(metrics.text).toContain(`detsearch_trials{status="completed"} ${2 * orchestrator.created.length}`);
    const doc = await http().get('/docs-json').expect(200);
    expect(Object.keys(doc.body.paths)).toEqual(
      expect.arrayContaining(['/searches', '/searches/{id}/events']),
    );
    await http().get('/docs').expect(200);
  });

  it('serves the dashboard at / and Chart.js under /vendor', async () => {
    const page = await http().get('/').expect(200);
    expect(page.text).toContain('<title>detsearch</title>');
    await http().get('/js/main.js').expect(200);
    // Every script is a file (no inline code for a content security policy to allow).
    expect(page.text).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    expect(page.text).not.toMatch(/\son[a-z]+=/);
    const chart = await http().get('/vendor/chart.umd.min.js').expect(200);
    expect(chart.headers['content-type']).toMatch(/javascript/);
  });

  it('committed openapi.json matches the app (regenerate: node -r @swc-node/register apps/api/src/write-openapi.ts)', () => {
    // Compared as data, so reformatting the file (prettier) does not count as stale.
    const committed: unknown = JSON.parse(readFileSync(OPENAPI_PATH, 'utf8'));
    expect(committed).toEqual(JSON.parse(JSON.stringify(buildOpenApiDocument(app))));
  });

  it('serves presets and hardware profiles from search-spaces/', async () => {
    const presets = (await http().get('/presets').expect(200)).body as { name: string }[];
    expect(presets.length).toBeGreaterThan(0);
    const one = await http().get(`/presets/${presets[0]!.name}`).expect(200);
    expect(one.body.name).toBe(presets[0]!.name);
    const missing = await http().get('/presets/no-such-preset').expect(404);
    expect(missing.body).toMatchObject({ statusCode: 404, field: 'name' });
    const profiles = (await http().get('/hardware-profiles').expect(200)).body as { name: string }[];
    expect(profiles.map((p) => p.name)).toContain(one.body.hardwareProfile);
  });
});

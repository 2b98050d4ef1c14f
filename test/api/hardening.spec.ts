import { execFileSync } from 'node:child_process';
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, startServer } from '../../apps/api/src/create-app';
import { FakeOrchestrator, fakeId } from '../../apps/api/src/testing/fake-orchestrator';
import { bootApp, waitFor, type TestApp } from './helpers';

const VALID = {
  strategy: 'random',
  objectives: ['map50_95', 'latency'],
  budget: { trials: 3 },
  evaluator: 'surrogate',
  seed: 5,
};

/** 400 naming `field` (the message starts with it). */
async function rejects(res: request.Test, field: string, status = 400): Promise<string> {
  const r = await res;
  expect(r.status, JSON.stringify(r.body)).toBe(status);
  expect(r.body.field).toBe(field);
  expect(r.body.message).toMatch(new RegExp(`^${field.replace(/[.[\]]/g, '\\$&')}`));
  return r.body.message as string;
}

describe('the API under abuse (PGlite)', () => {
  let t: TestApp;
  let dataRoot: string;
  const count = async () =>
    ((await t.http().get('/searches?limit=1000').expect(200)).body as unknown[]).length;

  beforeAll(async () => {
    dataRoot = mkdtempSync(join(tmpdir(), 'hardening-data-'));
    writeFileSync(join(dataRoot, 'data.yaml'), 'train: images\nval: images\nnames: [a, b]\n');
    writeFileSync(join(dataRoot, 'huge.yaml'), 'nc: 100000000\n');
    execFileSync('mkfifo', [join(dataRoot, 'fifo.yaml')]);
    t = await bootApp('pglite', 'hardening', { DATA_ROOT: dataRoot, MAX_TRIALS_PER_SEARCH: 500 });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('accepts upper-case ids on every route, and cancel with one stops the loop itself', async () => {
    t.surrogate.msPerTrial = 60;
    const { id } = (
      await t
        .http()
        .post('/searches')
        .send({ ...VALID, budget: { trials: 200 } })
        .expect(201)
    ).body as { id: string };
    const ID = id.toUpperCase();
    await waitFor(
      async () => {
        const s = await t.http().get(`/searches/${ID}`).expect(200);
        return s.body.progress.completed >= 1 ? true : undefined;
      },
      20_000,
      'a completed trial',
    );
    for (const path of ['', '/trials', '/pareto', '/pareto?format=csv'])
      await t.http().get(`/searches/${ID}${path}`).expect(200);
    const trial = (await t.http().get(`/searches/${ID}/trials?status=completed`).expect(200)).body.items[0];
    await t
      .http()
      .get(`/trials/${(trial.id as string).toUpperCase()}`)
      .expect(200);

    const cancelled = await t.http().post(`/searches/${ID}/cancel`).expect(200);
    expect(cancelled.body).toMatchObject({ id, status: 'cancelled' });
    // Not half-applied: no trial is left running or queued, and no new one starts afterwards.
    const settled = async () => (await t.http().get(`/searches/${id}`).expect(200)).body.progress;
    const after = await waitFor(
      async () => {
        const p = await settled();
        return p.running === 0 && p.queued === 0 ? p : undefined;
      },
      5_000,
      'the cancelled search to stop',
    );
    await new Promise((r) => setTimeout(r, 600));
    expect(await settled()).toEqual(after);
    expect(after.total).toBeLessThan(200);
    // The events stream of the ended search closes.
    const events = await t.http().get(`/searches/${ID}/events`).expect(200);
    expect(events.text).toContain('event: snapshot');
    await t.http().post(`/searches/${ID}/resume`).expect(200);
    await t.http().post(`/searches/${ID}/cancel`).expect(200);
    t.surrogate.msPerTrial = 0;
    // Ids that are not UUIDs are a plain 404 naming id.
    for (const bad of ['nope', `${id}0`, id.replace(/-/g, ''), '%E0%A4%A'])
      await rejects(
        t.http().get(`/searches/${bad}`),
        bad === '%E0%A4%A' ? 'path' : 'id',
        bad === '%E0%A4%A' ? 400 : 404,
      );
  }, 40_000);

  it('gives no absolute path and no hostname:pid in responses', async () => {
    const { id } = (
      await t
        .http()
        .post('/searches')
        .send({ ...VALID, dataset: 'data.yaml' })
        .expect(201)
    ).body as { id: string };
    await waitFor(
      async () => ((await t.http().get(`/searches/${id}`)).body.status === 'completed' ? true : undefined),
      20_000,
      'the dataset search to complete',
    );
    const search = await t.http().get(`/searches/${id}`).expect(200);
    expect(search.body.dataset).toBe('data.yaml');
    const full = await t.http().get(`/searches/${id}/trials?view=full`).expect(200);
    const texts = [search.text, full.text, (await t.http().get('/searches').expect(200)).text];
    for (const item of full.body.items as { workerId: string | null }[])
      if (item.workerId !== null) expect(item.workerId).toMatch(/^w-[0-9a-f]{12}$/);
    for (const text of texts) {
      expect(text).not.toContain(dataRoot);
      expect(text).not.toContain(`${hostname()}:${process.pid}`);
    }
  }, 30_000);

  it('answers every dataset it cannot use alike, without reading a FIFO', async () => {
    const before = await count();
    const missing = await rejects(
      t
        .http()
        .post('/searches')
        .send({ ...VALID, dataset: '/nonexistent/x.yaml' }),
      'dataset',
    );
    const shadow = await rejects(
      t
        .http()
        .post('/searches')
        .send({ ...VALID, dataset: '/etc/shadow' }),
      'dataset',
    );
    expect(missing.replace('/nonexistent/x.yaml', 'P')).toBe(shadow.replace('/etc/shadow', 'P'));
    expect(missing + shadow).not.toContain(dataRoot);
    const started = Date.now();
    expect(
      await rejects(
        t
          .http()
          .post('/searches')
          .send({ ...VALID, dataset: 'fifo.yaml' }),
        'dataset',
      ),
    ).toMatch(/not a regular file/);
    expect(Date.now() - started).toBeLessThan(2_000);
    await rejects(
      t
        .http()
        .post('/searches')
        .send({ ...VALID, dataset: 'huge.yaml' }),
      'dataset',
    );
    expect(await count()).toBe(before);
  });

  it('validates the whole launch: plain messages, the resolved space, caps; nothing stored', async () => {
    const before = await count();
    const post = (body: unknown) =>
      t
        .http()
        .post('/searches')
        .send(body as object);
    expect(await rejects(post({ ...VALID, budget: {} }), 'budget.trials')).toBe('budget.trials: required');
    expect(await rejects(post({ ...VALID, budget: { trials: '5' } }), 'budget.trials')).toBe(
      'budget.trials: must be an integer',
    );
    expect(await rejects(post({ ...VALID, seed: '1' }), 'seed')).toBe('seed: must be an integer');
    const { objectives: _o, ...noObjectives } = VALID;
    expect(await rejects(post(noObjectives), 'objectives')).toMatch(/^objectives: required/);
    const proto = t.http().post('/searches').set('content-type', 'application/json');
    expect(
      await rejects(proto.send(`{"__proto__":{"x":1},${JSON.stringify(VALID).slice(1)}`), '__proto__'),
    ).toBe('__proto__: unknown field');
    expect(await rejects(post({ ...VALID, constructor: {} }), 'constructor')).toBe(
      'constructor: unknown field',
    );
    for (const searchSpace of [
      { imageSize: 0 },
      { imageSize: -32 },
      { imageSize: 32_000_000 },
      { imageSize: { type: 'int', low: 160, high: 640, step: 0 } },
      { imageSize: { type: 'int', low: 160, high: 640, step: -32 } },
    ])
      await rejects(
        post({ ...VALID, searchSpace }),
        searchSpace.imageSize instanceof Object ? 'searchSpace.imageSize.step' : 'searchSpace.imageSize',
      );
    await rejects(
      post({ ...VALID, searchSpace: { imageSize: { type: 'ordinal', values: [320, 99_968] } } }),
      'searchSpace.imageSize.values[1]',
    );
    await rejects(post({ ...VALID, searchSpace: { separable: [1, 1] } }), 'searchSpace.separable');
    await rejects(post({ ...VALID, name: 'n'.repeat(201) }), 'name');
    expect(await rejects(post({ ...VALID, budget: { trials: 501 } }), 'budget.trials')).toMatch(
      /must not be greater than 500/,
    );
    await rejects(
      post({ ...VALID, searchSpace: { description: 'd'.repeat(1001) } }),
      'searchSpace.description',
    );
    await rejects(post({ ...VALID, name: 'a\u0000b' }), 'name');
    await rejects(post({ ...VALID, name: 'a\ud800b' }), 'name');
    const deep = '{"searchSpace":'.repeat(5000) + '1' + '}'.repeat(5000);
    const deepPost = t.http().post('/searches').set('content-type', 'application/json').send(deep);
    expect(await rejects(deepPost, 'body')).toMatch(/nested deeper than 32/);
    expect(await count()).toBe(before);
  });

  it('400 for offsets out of range and impossible cursor dates', async () => {
    const { id } = (await t.http().get('/searches?limit=1').expect(200)).body[0] as { id: string };
    for (const offset of ['1e21', '9223372036854775807', '-1', '2147483648']) {
      await rejects(t.http().get(`/searches?offset=${offset}`), 'offset');
      await rejects(t.http().get(`/searches/${id}/trials?offset=${offset}`), 'offset');
    }
    for (const k of ['2024-02-30T00:00:00.000000Z', '0000-01-01T00:00:00.000000Z']) {
      const after = Buffer.from(JSON.stringify({ s: 'createdAt', k, n: 1 })).toString('base64url');
      await rejects(t.http().get(`/searches/${id}/trials?sort=createdAt&after=${after}`), 'after');
    }
  });

  it('sends security headers and a request id', async () => {
    for (const path of ['/', '/searches', '/js/main.js']) {
      const res = await t.http().get(path).expect(200);
      expect(res.headers['content-security-policy']).toContain("frame-ancestors 'none'");
      expect(res.headers['content-security-policy']).toContain("script-src 'self'");
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      expect(res.headers['x-frame-options']).toBe('DENY');
      expect(res.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    }
    const mine = await t.http().get('/health').set('X-Request-Id', 'trace-42.a').expect(200);
    expect(mine.headers['x-request-id']).toBe('trace-42.a');
    const insane = await t.http().get('/health').set('X-Request-Id', 'x'.repeat(300)).expect(200);
    expect(insane.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });
});

describe('limits and auth (fake orchestrator)', () => {
  const KEY = 'limits-key-0123456789';
  const orchestrator = new FakeOrchestrator();
  let app: Awaited<ReturnType<typeof createApp>>;
  const http = () => request(app.getHttpServer());

  beforeAll(async () => {
    app = await createApp({
      env: {},
      config: {
        LOG_LEVEL: 'silent',
        API_KEY: KEY,
        RATE_LIMIT: 12,
        RATE_LIMIT_LAUNCH: 1,
        MAX_TRIALS_PER_SEARCH: 10,
      },
      orchestrator,
    });
  });
  afterAll(async () => {
    await app.close();
  });

  it('checks the API key before parsing the body', async () => {
    const res = await http()
      .post('/searches')
      .set('content-type', 'application/json')
      .send('{"broken":')
      .expect(401);
    expect(res.body).toMatchObject({ statusCode: 401, field: 'x-api-key' });
  });

  it('answers 503 when the database cannot be reached (a real driver error)', async () => {
    const client = new Client({
      connectionString: 'postgres://postgres@127.0.0.1:1/none',
      connectionTimeoutMillis: 2000,
    });
    const refused = await client.connect().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(refused).toBeTruthy();
    orchestrator.getSearch = async () => {
      throw refused;
    };
    const res = await http().get(`/searches/${fakeId('s', 1)}`);
    expect(res.status).toBe(503);
    expect(res.body).toMatchObject({ statusCode: 503, code: 'DATABASE.UNAVAILABLE' });
  });
  it('limits launches per client (only accepted ones count) and requests per window, not /health', async () => {
    const post = () => http().post('/searches').set('x-api-key', KEY);
    await post()
      .send({ ...VALID, seed: 'x' })
      .expect(400);
    await post().send(VALID).expect(201);
    await rejects(post().send(VALID), 'budget', 429);
    let limited = 0;
    for (let i = 0; i < 12; i++)
      if ((await http().get(`/searches/${fakeId('s', 1)}`)).status === 429) limited++;
    expect(limited).toBeGreaterThan(0);
    for (let i = 0; i < 5; i++) await http().get('/health').expect(200);
  });
});

describe('serve binds loopback unless told otherwise', () => {
  it('listens on 127.0.0.1 by default', async () => {
    const server = await startServer({
      env: {},
      config: { LOG_LEVEL: 'silent', PORT: 0 },
      orchestrator: new FakeOrchestrator(),
    });
    try {
      expect(server.app.getHttpServer().address()).toMatchObject({ address: '127.0.0.1' });
      expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    } finally {
      await server.app.close();
    }
  });
});

// Postgres behind a proxy this test can cut: every route answers 503 while the database is gone.
const POSTGRES = process.env.DATABASE_URL;
(POSTGRES ? describe : describe.skip)('503 on every route while Postgres is unreachable', () => {
  it('answers 503, not 500, and recovers when the database is back', async () => {
    const target = new URL(POSTGRES!);
    const sockets = new Set<Socket>();
    const proxy = createServer((client) => {
      const upstream = connect(Number(target.port || 5432), target.hostname);
      for (const s of [client, upstream]) {
        sockets.add(s);
        s.on('error', () => s.destroy());
        s.on('close', () => sockets.delete(s));
      }
      client.pipe(upstream).pipe(client);
    });
    const listen = () =>
      new Promise<number>((r) =>
        proxy.listen(0, '127.0.0.1', () => r((proxy.address() as AddressInfo).port)),
      );
    const port = await listen();
    const proxied = new URL(POSTGRES!);
    proxied.hostname = '127.0.0.1';
    proxied.port = String(port);
    const schema = `api_down_${process.pid}`;
    const app = await createApp({
      env: {},
      config: { LOG_LEVEL: 'silent', DATABASE_URL: proxied.toString() },
      schema,
    });
    const http = () => request(app.getHttpServer());
    try {
      const { id } = (await http().post('/searches').send(VALID).expect(201)).body as { id: string };
      await http().get(`/searches/${id}`).expect(200);
      // Cut it: no new connections, the open ones dropped.
      await new Promise<void>((r) => {
        proxy.close(() => r());
        for (const s of sockets) s.destroy();
      });
      for (const [method, url] of [
        ['GET', `/searches/${id}`],
        ['GET', '/searches'],
        ['GET', `/searches/${id}/trials`],
        ['GET', `/searches/${id}/pareto`],
        ['GET', `/trials/${fakeId('t', 1)}`],
        ['POST', '/searches'],
        ['POST', `/searches/${id}/cancel`],
        ['GET', '/health'],
      ] as const) {
        const res = method === 'GET' ? await http().get(url) : await http().post(url).send(VALID);
        expect(res.status, `${method} ${url}: ${JSON.stringify(res.body)}`).toBe(503);
      }
      proxy.listen(port, '127.0.0.1');
      await waitFor(
        async () => ((await http().get(`/searches/${id}`)).status === 200 ? true : undefined),
        15_000,
        'the API to reach the database again',
      );
    } finally {
      await app.close().catch(() => undefined);
      proxy.close();
      const client = new Client({ connectionString: POSTGRES });
      await client.connect();
      await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await client.end();
    }
  }, 60_000);
});

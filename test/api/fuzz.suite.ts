import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootApp, waitFor, type Backend, type TestApp } from './helpers';

/*
 * Property-based abuse of every route and query parameter: generated bad ids, query values and
 * launch bodies. Whatever comes in, the API answers below 500, every 4xx names the field it
 * blames, and nothing is stored (the searches and their trial counts stay as they were).
 */

// About 2,300 requests per backend: well under a minute on two busy cores.
const RUNS = {
  ids: 500,
  queries: 700,
  bodies: 800,
  raw: 300,
};

const VALID = {
  strategy: 'random',
  objectives: ['map50_95', 'latency'],
  budget: { trials: 4 },
  evaluator: 'surrogate',
  seed: 3,
};

/** Percent-encodes any JS string, lone surrogates included (encodeURIComponent throws on them). */
function encode(s: string): string {
  try {
    return encodeURIComponent(s);
  } catch {
    return [...s]
      .map((ch) => {
        const c = ch.charCodeAt(0);
        if (ch.length === 1 && c >= 0xd800 && c <= 0xdfff)
          // The UTF-8-like bytes of a surrogate: not valid UTF-8.
          return [0xe0 | (c >> 12), 0x80 | ((c >> 6) & 0x3f), 0x80 | (c & 0x3f)]
            .map((b) => `%${b.toString(16).toUpperCase()}`)
            .join('');
        return encodeURIComponent(ch);
      })
      .join('');
  }
}

const nasty = fc.constantFrom(
  '',
  ' ',
  '0',
  '-1',
  '1.5',
  '1e21',
  '9223372036854775807',
  '-9223372036854775809',
  '2147483648',
  'NaN',
  'Infinity',
  '-Infinity',
  '0x10',
  'null',
  'true',
  '[]',
  '{}',
  '\u0000',
  'a\u0000b',
  '\ud800',
  'x\udfffy',
  '../../etc/passwd',
  "' OR 1=1 --",
  '<script>alert(1)</script>',
  '%00',
  '%',
  '\u202e',
  'é',
  '🙂',
  'x'.repeat(600),
);

const anyText = fc.oneof(
  nasty,
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 20 }),
  fc.integer().map(String),
  fc.double().map(String),
);

/** Values of every JSON type, and some deep or odd ones. */
const anyJson = fc.oneof(
  { depthSize: 'small' },
  fc.jsonValue({ maxDepth: 3 }),
  anyText,
  fc.constantFrom(0, -1, 1.5, 1e21, 2 ** 53, -0, 2 ** 31, 100_001, 32_000_000, 99_968),
  fc.constant(null),
);

/** A bad value for each launch field (some are bad only in context, such as a valid-looking type). */
const badField: Record<string, fc.Arbitrary<unknown>> = {
  name: fc.oneof(fc.constantFrom('', 'a\u0000b', '\ud800', 'x'.repeat(201), 5, null, [], {})),
  preset: fc.oneof(fc.constantFrom('', 'no-such-preset', '\u0000', 7, null, ['quick-demo'])),
  strategy: fc.oneof(
    anyText.filter((s) => !['random', 'evolution', 'nsga2', 'bayes'].includes(s)),
    fc.integer(),
  ),
  objectives: fc.oneof(
    fc.constantFrom([], ['latency'], ['map50_95', 'map50_95'], ['speed'], 'map50_95', null, {}, [1]),
    fc.array(anyText, { minLength: 1, maxLength: 4 }),
  ),
  constraints: fc.oneof(
    fc.constantFrom(null, 1, 'x', [], { maxLatencyMs: -1 }, { maxLatencyMs: 'fast' }, { minMap50_95: 2 }),
    fc.record({ bogus: anyJson }),
  ),
  budget: fc.oneof(
    fc.constantFrom(null, 4, '4', [], {}, { trials: '4' }, { trials: 0 }, { trials: 1e21 }),
    fc.constantFrom({ trials: 2.5 }, { trials: -1 }, { trials: 100_001 }, { trials: null }),
    fc.constantFrom({ trials: 4, extra: 1 }, { trials: 4, wallClockMinutes: -5 }, { trials: 2 ** 63 }),
  ),
  seed: fc.oneof(fc.constantFrom('1', -1, 1.5, 2 ** 31, 1e21, null, [], {}, NaN), anyText),
  searchSpace: fc.oneof(
    fc.constantFrom(null, 'yolov5', 5, []),
    fc.constantFrom(
      { imageSize: 0 },
      { imageSize: -32 },
      { imageSize: 32_000_000 },
      { imageSize: 333 },
      { imageSize: { type: 'int', low: 160, high: 640, step: 0 } },
      { imageSize: { type: 'int', low: 160, high: 640, step: -32 } },
      { imageSize: { type: 'ordinal', values: [320, 99_968] } },
      { separable: [1, 1] },
      { separable: [99] },
      { numClasses: 100_000_000 },
      { depthMultiple: 0 },
      { widthMultiple: { type: 'float', low: 2, high: 1 } },
      { quantization: 'int4' },
      { activation: { type: 'categorical', choices: [] } },
      { description: 'd'.repeat(1001) },
      { name: 'n\u0000' },
      { bogus: true },
    ),
    fc.record({ imageSize: anyJson, depthMultiple: anyJson }, { requiredKeys: ['imageSize'] }),
  ),
  hardwareProfile: fc.oneof(
    fc.constantFrom('', 'toaster', 1, null),
    anyText.filter((s) => s !== 'host'),
  ),
  dataset: fc.constantFrom('', '/etc/shadow', '/nonexistent/x.yaml', '../x.yaml', '/dev/zero', '.', 5, null),
  fidelity: fc.oneof(
    fc.constantFrom(null, 3, {}, { epochs: 0 }, { epochs: 3, minEpochs: 5 }, { epochs: 1, eta: 1 }),
    fc.constantFrom({ epochs: 1, imageSize: 33 }, { epochs: 1, imageSize: 1e9 }, { epochs: '1' }),
  ),
  evaluator: fc.oneof(
    fc.constantFrom('', 'oracle', 1, null),
    anyText.filter((s) => !['full', 'surrogate'].includes(s)),
  ),
};
const FIELDS = Object.keys(badField);

/** A launch body with at least one bad field (so no generated body is valid), maybe unknown keys too. */
const badBody = fc
  .record({
    broken: fc.uniqueArray(fc.constantFrom(...FIELDS), { minLength: 1, maxLength: 3 }),
    dropped: fc.subarray(['strategy', 'objectives', 'budget', 'evaluator', 'seed']),
    extra: fc.option(
      fc.oneof(
        fc.constantFrom('__proto__', 'constructor', 'prototype', 'colour', 'Budget', 'a\u0000'),
        fc.string({ minLength: 1, maxLength: 12 }),
      ),
      { nil: undefined },
    ),
  })
  .chain(({ broken, dropped, extra }) =>
    fc.tuple(...broken.map((f) => badField[f]!)).map((values) => {
      const body: Record<string, unknown> = { ...VALID };
      for (const d of dropped) delete body[d];
      broken.forEach((f, i) => (body[f] = values[i]));
      let text = JSON.stringify(body);
      if (extra !== undefined && !Object.hasOwn(VALID, extra))
        text = `${text.slice(0, -1)}${text.length > 2 ? ',' : ''}${JSON.stringify(extra)}:1}`;
      return text;
    }),
  );

/** Bodies that are not a launch object at all. */
const rawBody = fc.oneof(
  fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v) ?? 'null'),
  fc.integer({ min: 33, max: 6000 }).map((n) => '['.repeat(n) + ']'.repeat(n)),
  fc.integer({ min: 33, max: 6000 }).map((n) => '{"a":'.repeat(n) + '1' + '}'.repeat(n)),
  fc.constantFrom('', '{', '{"strategy":', 'null', '[]', '"x"', '{"name":"\\u0000"}', '{"name":"\\ud800"}'),
  fc.constantFrom(
    '{"budget":{"trials":9223372036854775807}}',
    '{"seed":1e400}',
    '{"__proto__":{"admin":true}}',
  ),
  fc.string({ maxLength: 40 }),
);

interface Reply {
  status: number;
  body: unknown;
  text?: string;
}

/** Every 4xx in the API's error shape, blaming a field its message names. */
function checkReply(what: string, res: Reply): void {
  if (res.status >= 500) throw new Error(`${what} -> ${res.status} ${res.text?.slice(0, 300)}`);
  if (res.status < 400) return;
  const b = res.body as { statusCode?: number; message?: unknown; field?: unknown };
  if (b?.statusCode !== res.status || typeof b.message !== 'string')
    throw new Error(`${what} -> ${res.status} not in the error shape: ${res.text?.slice(0, 300)}`);
  if (typeof b.field !== 'string' || !b.field || !b.message.includes(b.field))
    throw new Error(`${what} -> ${res.status} does not name its field: ${JSON.stringify(b)}`);
}

export function fuzzSuite(backend: Backend): void {
  describe(`fuzzing every route on ${backend}`, () => {
    let t: TestApp;
    let searchId: string;
    let trialId: string;
    let before: string;
    let requests = 0;

    /** What must not change: every search with its status and trial counts. */
    const snapshot = async () => {
      const res = await t.http().get('/searches?limit=1000').expect(200);
      const rows = res.body as { id: string; status: string; progress: Record<string, number> }[];
      return JSON.stringify(rows.map((s) => [s.id, s.status, s.progress.total]));
    };

    beforeAll(async () => {
      t = await bootApp(backend, 'fuzz', { RATE_LIMIT: 0, RATE_LIMIT_LAUNCH: 0 });
      const created = await t.http().post('/searches').send(VALID).expect(201);
      searchId = created.body.id as string;
      await waitFor(
        async () => {
          const s = await t.http().get(`/searches/${searchId}`).expect(200);
          return s.body.status === 'completed' ? true : undefined;
        },
        30_000,
        'the seed search to complete',
      );
      const page = await t.http().get(`/searches/${searchId}/trials`).expect(200);
      trialId = (page.body.items as { id: string }[])[0]!.id;
      before = await snapshot();
    }, 60_000);

    afterAll(async () => {
      await t?.close();
    });

    const get = async (url: string): Promise<void> => {
      requests++;
      const res = await t.http().get(url).buffer(true);
      checkReply(`GET ${url}`, res);
    };

    it('ids: any string on every :id route is 200, 404 or 409, never 5xx', async () => {
      const idArb = fc.oneof(
        anyText,
        fc.uuid(),
        fc.constantFrom('SEARCH', 'TRIAL').map((k) => k),
        fc.uuid().map((u) => u.toUpperCase()),
        fc.uuid().map((u) => `${u}x`),
        fc.uuid().map((u) => u.replace(/-/g, '')),
      );
      const route = fc.constantFrom(
        (id: string) => ['GET', `/searches/${id}`],
        (id: string) => ['GET', `/searches/${id}/trials`],
        (id: string) => ['GET', `/searches/${id}/pareto`],
        (id: string) => ['GET', `/searches/${id}/pareto?format=csv`],
        (id: string) => ['GET', `/searches/${id}/events`],
        (id: string) => ['POST', `/searches/${id}/cancel`],
        (id: string) => ['POST', `/searches/${id}/resume`],
        (id: string) => ['GET', `/trials/${id}`],
        (id: string) => ['GET', `/trials/${id}/model.onnx`],
        (id: string) => ['GET', `/presets/${id}`],
      );
      await fc.assert(
        fc.asyncProperty(idArb, route, async (raw, r) => {
          const id =
            raw === 'SEARCH' ? searchId.toUpperCase() : raw === 'TRIAL' ? trialId.toUpperCase() : raw;
          if (id === '' || id === '.' || id === '..') return; // another route, by URL rules
          const [method, url] = r(encode(id));
          requests++;
          const res =
            method === 'GET' ? await t.http().get(url!).buffer(true) : await t.http().post(url!).send({});
          checkReply(`${method} ${url}`, res);
          // The upper-case form of a real id names the same search or trial.
          const searchRoute = url!.startsWith('/searches/');
          if (raw === 'SEARCH' && searchRoute && method === 'GET') expect(res.status).toBe(200);
          if (raw === 'SEARCH' && searchRoute && method === 'POST') expect(res.status).toBe(409);
          if (raw === 'TRIAL' && url === `/trials/${encode(id)}`) expect(res.status).toBe(200);
        }),
        { numRuns: RUNS.ids, seed: 15 },
      );
    }, 60_000);

    it('queries: any value of every query parameter (and unknown ones) is 2xx or a 4xx naming it', async () => {
      const param = fc.constantFrom(
        ['/searches', 'limit'],
        ['/searches', 'offset'],
        ['/searches', 'status'],
        ['TRIALS', 'sort'],
        ['TRIALS', 'limit'],
        ['TRIALS', 'offset'],
        ['TRIALS', 'status'],
        ['TRIALS', 'after'],
        ['TRIALS', 'view'],
        ['PARETO', 'format'],
        ['/searches', 'bogus'],
        ['TRIALS', 'limit[]'],
      );
      const cursorLike = fc
        .record({
          s: fc.constantFrom('number', '-createdAt', 'createdAt', '-map50_95', 'params', 'x'),
          k: fc.oneof(
            anyJson,
            fc.constantFrom(
              '2024-02-30T00:00:00.000000Z',
              '0000-01-01T00:00:00.000000Z',
              '9999-12-31T23:59:59.999999Z',
              'NaN',
              '-Infinity',
            ),
          ),
          n: fc.oneof(fc.integer(), fc.constantFrom(2 ** 31, -1, 1.5, 1e21)),
        })
        .map((c) => Buffer.from(JSON.stringify(c)).toString('base64url'));
      const value = fc.oneof(anyText, cursorLike, fc.array(anyText, { minLength: 2, maxLength: 3 }));
      const second = fc.option(fc.tuple(param, value), { nil: undefined });
      await fc.assert(
        fc.asyncProperty(param, value, second, async ([path, key], v, extra) => {
          const base =
            path === 'TRIALS'
              ? `/searches/${searchId}/trials`
              : path === 'PARETO'
                ? `/searches/${searchId}/pareto`
                : path!;
          const pairs = (k: string, x: string | string[]) =>
            (Array.isArray(x) ? x : [x]).map((one) => `${encode(k)}=${encode(one)}`);
          const qs = [...pairs(key!, v)];
          if (extra && extra[0][0] === path) qs.push(...pairs(extra[0][1]!, extra[1]));
          await get(`${base}?${qs.join('&')}`);
        }),
        { numRuns: RUNS.queries, seed: 15 },
      );
    }, 60_000);

    it('launch bodies: every body with a bad field is a 400 naming it, and nothing is stored', async () => {
      await fc.assert(
        fc.asyncProperty(badBody, async (text) => {
          requests++;
          const res = await t.http().post('/searches').set('content-type', 'application/json').send(text);
          checkReply(`POST /searches ${text.slice(0, 200)}`, res);
          if (res.status !== 400 && res.status !== 413)
            throw new Error(`POST /searches ${text.slice(0, 200)} -> ${res.status}, expected 400`);
        }),
        { numRuns: RUNS.bodies, seed: 15 },
      );
    }, 60_000);

    it('raw bodies: any JSON (or not JSON), deep nesting included, is a 4xx naming the field', async () => {
      await fc.assert(
        fc.asyncProperty(rawBody, async (text) => {
          requests++;
          const res = await t.http().post('/searches').set('content-type', 'application/json').send(text);
          checkReply(`POST /searches ${text.slice(0, 200)}`, res);
          if (res.status < 400) throw new Error(`POST /searches ${text.slice(0, 200)} -> ${res.status}`);
        }),
        { numRuns: RUNS.raw, seed: 15 },
      );
    }, 60_000);

    it('stored nothing: the searches and their trials are as before', async () => {
      expect(await snapshot()).toBe(before);
      expect(requests).toBeGreaterThanOrEqual(2000);
    });
  });
}

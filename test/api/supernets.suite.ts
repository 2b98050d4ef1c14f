import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootApp, waitFor, type Backend, type TestApp } from './helpers';

const KEY = 'supernet-api-key-01';

/** Every field GET /supernets and GET /supernets/:id carry (the dashboard reads them). */
const SHAPE = {
  id: expect.any(String),
  status: expect.stringMatching(/^(training|ready|failed|cancelled)$/),
  activation: expect.any(String),
  datasetFingerprint: expect.stringMatching(/^synthetic:/),
  spaceFingerprint: expect.stringMatching(/^space:/),
  dataset: expect.any(String),
  epochs: expect.any(Number),
  minutes: expect.any(Number),
  createdAt: expect.any(String),
  updatedAt: expect.any(String),
};

/**
 * The supernet routes end to end on one backend: train (202), list and read with progress, bad
 * input named by field, and a search's supernetId checked at launch.
 */
export function supernetApiSuite(backend: Backend): void {
  describe(`supernets REST API on ${backend}`, () => {
    let t: TestApp;
    const post = (url: string) => t.http().post(url).set('x-api-key', KEY);

    beforeAll(async () => {
      t = await bootApp(backend, 'supernets', { API_KEY: KEY });
    });
    afterAll(async () => {
      await t?.close();
    });

    it('POST /supernets starts training (202 with an id); GET lists and reads it in one shape', async () => {
      const created = await post('/supernets')
        .send({ preset: 'quick-demo', minutes: 0.5, activation: 'relu' })
        .expect(202);
      expect(created.body).toMatchObject({ ...SHAPE, activation: 'relu' });
      const id = created.body.id as string;
      expect(created.body).toHaveProperty('progress');
      expect(created.body).toHaveProperty('metrics');
      expect(created.body).toHaveProperty('sizeBytes');
      expect(created.body).toHaveProperty('error');

      // The same request again follows the run instead of starting a second one.
      const again = await post('/supernets').send({ preset: 'quick-demo', activation: 'relu' });
      expect([201, 202]).toContain(again.status);
      expect(again.body.id).toBe(id);

      const one = (await t.http().get(`/supernets/${id}`).expect(200)).body;
      expect(one).toMatchObject({ ...SHAPE, id });
      const list = (await t.http().get('/supernets').expect(200)).body;
      expect(list.items.map((s: { id: string }) => s.id)).toContain(id);
      expect(list.items.find((s: { id: string }) => s.id === id)).toMatchObject({ ...SHAPE, id });

      // Training runs in a child process: the API answers while it runs, and the row moves on
      // (progress, or its end) without anyone polling the trainer.
      const moved = await waitFor(
        async () => {
          const s = (await t.http().get(`/supernets/${id}`).expect(200)).body;
          return s.progress !== null || s.status !== 'training' ? s : undefined;
        },
        60_000,
        'supernet progress',
      );
      if (moved.progress)
        expect(moved.progress).toMatchObject({
          fraction: expect.any(Number),
          epoch: expect.any(Number),
          message: expect.any(String),
        });
    });

    it('rejects bad supernet requests naming the field, and unknown ids with 404', async () => {
      const bad = async (body: unknown, field: string) => {
        const res = await post('/supernets')
          .send(body as object)
          .expect(400);
        expect(res.body.message).toContain(field);
      };
      await bad({ minutes: -1 }, 'minutes');
      await bad({ activation: 'gelu' }, 'activation');
      await bad({ preset: 'no-such-preset' }, 'preset');
      await bad({ bogus: 1 }, 'bogus');
      await bad({ preset: 'quick-demo', activation: 'hardswish' }, 'activation'); // not in the preset's space
      await t.http().post('/supernets').send({}).expect(401);
      const missing = await t.http().get('/supernets/00000000-0000-4000-8000-000000000000').expect(404);
      expect(missing.body.message).toMatch(/not found/);
      await t.http().get('/supernets/not-an-id').expect(404);
    });

    it("POST /searches with evaluator 'supernet': supernetId is validated and named", async () => {
      const base = { preset: 'quick-demo', evaluator: 'supernet' };
      const unknown = await post('/searches')
        .send({ ...base, supernetId: '00000000-0000-4000-8000-000000000000' })
        .expect(404);
      expect(unknown.body.message).toMatch(/^supernetId: /);
      const malformed = await post('/searches')
        .send({ ...base, supernetId: 'abc' })
        .expect(400);
      expect(malformed.body.message).toMatch(/supernetId/);
      const wrongEvaluator = await post('/searches')
        .send({ preset: 'quick-demo', evaluator: 'surrogate', fineTune: { topK: 1 } })
        .expect(400);
      expect(wrongEvaluator.body.message).toMatch(/fineTune/);
      const badTopK = await post('/searches')
        .send({ ...base, fineTune: { seeds: 3 } })
        .expect(400);
      expect(badTopK.body.message).toMatch(/fineTune\.seeds/);
    });
  });
}

import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DomainError } from '@detsearch/common';
import { genomeKey, parseGenome } from '@detsearch/genome';
import {
  nonDominated,
  paretoFront,
  SearchRepository,
  seedTrials,
  SupernetRepository,
  TrialRepository,
  type Database,
  type NewSearch,
  type NewTrial,
  type Trial,
} from '@detsearch/persistence';

export function newSearch(overrides: Partial<NewSearch> = {}): NewSearch {
  return {
    name: 'contract',
    strategy: 'random',
    objectives: ['map50_95', 'latency'],
    constraints: {},
    budget: { trials: 10 },
    seed: 7,
    searchSpace: { name: 'test' },
    hardwareProfile: 'host',
    hardwareProfileSpec: null,
    preset: null,
    dataset: null,
    fidelity: { epochs: 3 },
    evaluator: 'surrogate',
    request: { strategy: 'random' },
    ...overrides,
  };
}

const genome = (w: number, img = 320) =>
  parseGenome({ depthMultiple: 0.33, widthMultiple: w, imageSize: img });

export function newTrial(searchId: string, number: number, w = 0.25): NewTrial {
  const g = genome(w);
  return {
    searchId,
    number,
    genome: g,
    genomeKey: genomeKey(g),
    searchParams: { widthMultiple: w },
    epochs: 3,
    params: 1000 * number,
    gflops: number / 10,
    sizeBytes: 4000 * number,
    latencyMs: 1 + number,
    latencyPerProfile: { host: 1 + number },
    evaluator: 'surrogate',
  };
}

/**
 * The behaviour every database backend must show (Optuna's StorageTestCase habit): run once per
 * backend by the spec files beside this one, on one shared database per file.
 */
export function repositoryContract(
  kind: string,
  open: () => Promise<Database>,
  cleanup: () => Promise<void>,
) {
  describe(`repositories on ${kind}`, () => {
    let db: Database;
    let searches: SearchRepository;
    let trials: TrialRepository;

    beforeAll(async () => {
      db = await open();
      searches = new SearchRepository(db);
      trials = new TrialRepository(db);
    });
    afterAll(async () => {
      await db?.close();
      await cleanup();
    });

    /** Completes a trial through the claim/finish protocol with the given metrics. */
    async function complete(t: Trial, map: number, latency: number, extra: { violation?: number } = {}) {
      const c = (await trials.claim(t.id, 'w'))!;
      return trials.finish(t.id, c.lease, {
        status: 'completed',
        map50_95: map,
        map50: map * 1.5,
        latencyMs: latency,
        objectiveValues: [-map, latency],
        constraintValues: extra.violation !== undefined ? [extra.violation] : [],
      });
    }

    it('creates, reads and lists searches; unknown or malformed ids are null', async () => {
      const s = await searches.create(newSearch({ name: 'first' }));
      expect(s).toMatchObject({
        name: 'first',
        status: 'queued',
        budget: { trials: 10 },
        objectives: ['map50_95', 'latency'],
      });
      expect(s.createdAt).toBeInstanceOf(Date);
      expect(await searches.get(s.id)).toEqual(s);
      expect(await searches.get('00000000-0000-0000-0000-000000000000')).toBeNull();
      expect(await searches.get('not-a-uuid')).toBeNull();
      const page = await searches.list({ limit: 1000 });
      expect(page.items.map((x) => x.id)).toContain(s.id);
      expect(page.total).toBeGreaterThanOrEqual(1);
      const queued = await searches.list({ status: 'completed', limit: 1000 });
      expect(queued.items.map((x) => x.id)).not.toContain(s.id);
    });

    it('transitions only from the allowed states, with timestamps', async () => {
      const s = await searches.create(newSearch());
      const running = await searches.transition(s.id, ['queued'], 'running', { started: true });
      expect(running?.status).toBe('running');
      expect(running?.startedAt).toBeInstanceOf(Date);
      expect(await searches.transition(s.id, ['queued'], 'running')).toBeNull();
      const done = await searches.transition(s.id, ['running'], 'failed', { error: 'boom', finished: true });
      expect(done).toMatchObject({ status: 'failed', error: 'boom' });
      expect(done?.finishedAt).toBeInstanceOf(Date);
      const again = await searches.transition(s.id, ['failed'], 'running', { error: null });
      expect(again).toMatchObject({ status: 'running', error: null, finishedAt: null });
    });

    it('grants the runner lease to one runner until it goes stale', async () => {
      const s = await searches.create(newSearch());
      expect(await searches.acquireLease(s.id, 'a', 60_000)).not.toBeNull();
      expect(await searches.acquireLease(s.id, 'b', 60_000)).toBeNull();
      expect(await searches.acquireLease(s.id, 'a', 60_000)).not.toBeNull();
      expect(await searches.renewLease(s.id, 'b')).toBe(false);
      expect(await searches.renewLease(s.id, 'a')).toBe(true);
      await new Promise((r) => setTimeout(r, 30));
      expect((await searches.acquireLease(s.id, 'b', 10))?.runnerId).toBe('b');
      expect(await searches.renewLease(s.id, 'a')).toBe(false);
      expect((await searches.findOrphaned(60_000)).map((x) => x.id)).not.toContain(s.id);
      await searches.releaseLease(s.id, 'b');
      expect((await searches.findOrphaned(60_000)).map((x) => x.id)).toContain(s.id);
    });

    it('creates trials in the caller transaction; a rollback leaves nothing behind', async () => {
      const s = await searches.create(newSearch());
      await expect(
        db.transaction(async (tx) => {
          await trials.create([newTrial(s.id, 0), newTrial(s.id, 1)], tx);
          expect((await trials.counts(s.id, tx)).total).toBe(2);
          throw new Error('queue insert failed');
        }),
      ).rejects.toThrow('queue insert failed');
      expect((await trials.counts(s.id)).total).toBe(0);

      const created = await db.transaction(async (tx) => {
        const n = await trials.nextNumber(s.id, tx);
        return trials.create([newTrial(s.id, n), newTrial(s.id, n + 1)], tx);
      });
      expect(created.map((t) => t.number)).toEqual([0, 1]);
      expect(created[0]).toMatchObject({ status: 'queued', attempts: 0, epochsDone: 0, epochMetrics: [] });
      expect(created[0]!.genome.widthMultiple).toBe(0.25);
      expect(created[0]!.latencyPerProfile).toEqual({ host: 1 });
      expect(await trials.nextNumber(s.id)).toBe(2);
      // The same number twice is refused (unique per search): no duplicated trials.
      await expect(trials.create([newTrial(s.id, 1)])).rejects.toThrow();
      expect(await trials.get(created[1]!.id)).toEqual(created[1]);
    });

    it('claims a trial once; only the current attempt may record or finish it', async () => {
      const s = await searches.create(newSearch());
      const [t] = await trials.create([newTrial(s.id, 0)]);
      const first = await trials.claim(t!.id, 'w1');
      expect(first?.trial).toMatchObject({ status: 'running', workerId: 'w1', attempts: 1 });
      expect(await trials.claim(t!.id, 'w2')).toBeNull();

      expect(await trials.recordEpoch(t!.id, first!.lease, { epoch: 1, map50_95: 0.1 }, 0)).toBe(true);
      expect(await trials.recordEpoch(t!.id, { workerId: 'w2', attempt: 1 }, { epoch: 2 }, 0)).toBe(false);

      // The worker is presumed dead: its trial goes back to the queue and is claimed again.
      expect(await trials.requeue(s.id, { workerIds: ['w1'] })).toBe(1);
      const requeued = (await trials.get(t!.id))!;
      expect(requeued).toMatchObject({ status: 'queued', epochMetrics: [], epochsDone: 0, map50_95: null });
      const second = (await trials.claim(t!.id, 'w2'))!;
      expect(second.lease).toEqual({ workerId: 'w2', attempt: 2 });

      // A late result from the first attempt changes nothing.
      expect(await trials.finish(t!.id, first!.lease, { status: 'completed', map50_95: 0.9 })).toBeNull();
      const done = await trials.finish(t!.id, second.lease, {
        status: 'completed',
        map50_95: 0.3,
        map50: 0.45,
        latencyMs: 12,
        objectiveValues: [-0.3, 12],
        constraintValues: [-1, 2],
        backend: 'surrogate',
        epochMetrics: [
          { epoch: 1, map50_95: 0.2 },
          { epoch: 2, map50_95: 0.3 },
        ],
      });
      expect(done).toMatchObject({
        status: 'completed',
        map50_95: 0.3,
        latencyMs: 12,
        violation: 2,
        objectiveValues: [-0.3, 12],
        epochsDone: 2,
        backend: 'surrogate',
        workerId: 'w2',
        attempts: 2,
      });
      expect(done!.finishedAt).toBeInstanceOf(Date);
      // Finishing twice is a no-op (idempotent result writes).
      expect(await trials.finish(t!.id, second.lease, { status: 'failed', error: 'dup' })).toBeNull();
      expect((await trials.get(t!.id))!.status).toBe('completed');
    });

    it('stores where a latency comes from: predicted at creation, measured when a result says so', async () => {
      const s = await searches.create(newSearch());
      const [t] = await trials.create([
        {
          ...newTrial(s.id, 0),
          latencyMs: 9,
          latencySource: 'predicted',
          latencyProvenance: 'predicted for host (uncalibrated datasheet profile)',
        },
      ]);
      expect(t).toMatchObject({
        latencySource: 'predicted',
        latencyProvenance: expect.stringMatching(/^predicted/),
      });
      const c = (await trials.claim(t!.id, 'w'))!;
      const done = await trials.finish(t!.id, c.lease, {
        status: 'completed',
        map50_95: 0.3,
        latencyMs: 7.5,
        latencySource: 'measured',
        latencyProvenance: 'measured on this host (EPYC) with onnxruntime CPU, 1 thread, median of 30 runs',
      });
      expect(done).toMatchObject({ latencyMs: 7.5, latencySource: 'measured' });
      const page = await trials.list(s.id, {});
      expect(page.items[0]).toMatchObject({
        latencySource: 'measured',
        latencyProvenance: expect.stringContaining('1 thread'),
      });
    });

    it('re-queues stale running trials and fails unfinished ones', async () => {
      const s = await searches.create(newSearch());
      const ts = await trials.create([newTrial(s.id, 0), newTrial(s.id, 1), newTrial(s.id, 2)]);
      await trials.claim(ts[0]!.id, 'a');
      await trials.claim(ts[1]!.id, 'b');
      expect(await trials.requeue(s.id, { staleMs: 60_000 })).toBe(0);
      await new Promise((r) => setTimeout(r, 30));
      expect(await trials.requeue(s.id, { staleMs: 10 })).toBe(2);
      expect((await trials.counts(s.id)).queued).toBe(3);
      await trials.claim(ts[0]!.id, 'a');
      expect(await trials.failUnfinished(s.id, 'search cancelled')).toBe(3);
      expect(await trials.counts(s.id)).toMatchObject({ failed: 3, queued: 0, running: 0, total: 3 });
      expect(await trials.requeueFailed(s.id, 'search cancelled')).toBe(3);
      expect((await trials.counts(s.id)).queued).toBe(3);
    });

    it('reports rung entries from the per-epoch metrics', async () => {
      const s = await searches.create(newSearch());
      const ts = await trials.create([newTrial(s.id, 0), newTrial(s.id, 1), newTrial(s.id, 2)]);
      for (const [i, t] of ts.entries()) {
        const { lease } = (await trials.claim(t.id, 'w'))!;
        for (let e = 1; e <= i + 1; e++)
          await trials.recordEpoch(t.id, lease, { epoch: e, map50_95: 0.1 * i + e / 100 }, 0);
      }
      const at2 = await trials.rungEntries(s.id, 2);
      expect(at2.map((r) => r.number).sort()).toEqual([1, 2]);
      expect(at2.find((r) => r.number === 2)!.map50_95).toBeCloseTo(0.22);
      expect(at2.find((r) => r.number === 1)!.latencyMs).toBe(2);
    });

    it('sorts, filters and paginates the leaderboard with unfinished trials last', async () => {
      const s = await searches.create(newSearch());
      const ts = await trials.create(Array.from({ length: 8 }, (_, i) => newTrial(s.id, i)));
      const maps = [0.3, 0.5, 0.1, 0.4, 0.2, 0.45];
      for (const [i, m] of maps.entries()) await complete(ts[i]!, m, 10 - i);
      const byMap = await trials.list(s.id, { sort: '-map50_95', limit: 3 });
      expect(byMap.total).toBe(8);
      expect(byMap.items.map((t) => t.map50_95)).toEqual([0.5, 0.45, 0.4]);
      const tail = await trials.list(s.id, { sort: '-map50_95', limit: 3, offset: 6 });
      expect(tail.items.map((t) => t.map50_95)).toEqual([null, null]);
      const asc = await trials.list(s.id, { sort: 'map50_95', limit: 10 });
      expect(asc.items.slice(0, 6).map((t) => t.map50_95)).toEqual([0.1, 0.2, 0.3, 0.4, 0.45, 0.5]);
      expect(asc.items[7]!.map50_95).toBeNull();
      const fastest = await trials.list(s.id, { sort: 'latencyMs', status: 'completed', limit: 2 });
      expect(fastest.total).toBe(6);
      expect(fastest.items.map((t) => t.latencyMs)).toEqual([5, 6]);
      const queued = await trials.list(s.id, { status: ['queued', 'running'] });
      expect(queued.items.map((t) => t.number)).toEqual([6, 7]);
      const sizes = await trials.list(s.id, { sort: '-sizeBytes', limit: 2 });
      expect(sizes.items.map((t) => t.number)).toEqual([7, 6]);
      await expect(trials.list(s.id, { sort: 'nope' as never })).rejects.toBeInstanceOf(DomainError);
      const best = await trials.best(s.id);
      expect(best?.map50_95).toBe(0.5);
    });

    it('returns exactly the non-dominated feasible completed trials, ties included', async () => {
      const s = await searches.create(newSearch());
      const n = 60;
      const ts = await trials.create(Array.from({ length: n }, (_, i) => newTrial(s.id, i)));
      let x = 12345;
      const rnd = () => (x = (x * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
      const pts: { id: string; map: number; lat: number; feasible: boolean }[] = [];
      for (const t of ts.slice(0, 50)) {
        const map = Math.round(rnd() * 20) / 20;
        const lat = Math.round(rnd() * 20);
        const feasible = rnd() > 0.15;
        await complete(t, map, lat, { violation: feasible ? -1 : 3 });
        pts.push({ id: t.id, map, lat, feasible });
      }
      // An exact duplicate of a front point must be exported too.
      const ok = pts.filter((p) => p.feasible);
      const want = nonDominatedBrute(ok.map((p) => [-p.map, p.lat])).map((i) => ok[i]!.id);
      const dupOf = ok.find((p) => p.id === want[0])!;
      await complete(ts[50]!, dupOf.map, dupOf.lat, { violation: 0 });
      want.push(ts[50]!.id);

      // The front is kept as trials complete...
      const front = await trials.pareto(s.id);
      expect(front.map((t) => t.id).sort()).toEqual([...want].sort());
      for (const t of front) expect(t).toMatchObject({ status: 'completed', onFront: true });
      const maps = front.map((t) => t.map50_95!);
      expect(maps).toEqual([...maps].sort((a, b) => b - a));
      // ...and agrees with a from-scratch computation and its repair.
      expect((await paretoFront(db, s.id, ['map50_95', 'latency'])).ids.sort()).toEqual([...want].sort());
      expect(await trials.recomputeFront(s.id)).toBe(want.length);
      expect((await trials.pareto(s.id)).map((t) => t.id).sort()).toEqual([...want].sort());

      // Three objectives: the from-scratch sweep agrees with brute force.
      const all3 = await trials.list(s.id, { status: 'completed', limit: 1000 });
      const feas = all3.items.filter((t) => (t.violation ?? 0) <= 0);
      const want3 = nonDominatedBrute(feas.map((t) => [-t.map50_95!, t.latencyMs!, t.sizeBytes!])).map(
        (i) => feas[i]!.id,
      );
      const front3 = await paretoFront(db, s.id, ['map50_95', 'latency', 'size']);
      expect(front3.ids.sort()).toEqual(want3.sort());
      expect(front3.considered).toBe(ok.length + 1);

      const bsf = await trials.bestSoFar(s.id);
      expect(bsf?.paretoSize).toBe(want.length);
      expect(bsf?.map50_95).toBe(Math.max(...ok.map((p) => p.map)));
    });

    it('keeps a three-objective front as trials complete', async () => {
      const s = await searches.create(newSearch({ objectives: ['map50_95', 'latency', 'size'] }));
      const ts = await trials.create(Array.from({ length: 30 }, (_, i) => newTrial(s.id, i)));
      let x = 777;
      const rnd = () => (x = (x * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
      const vecs: number[][] = [];
      for (const t of ts) {
        const { lease } = (await trials.claim(t.id, 'w'))!;
        const map = Math.round(rnd() * 10) / 10;
        const lat = Math.round(rnd() * 10);
        const size = Math.round(rnd() * 10);
        await trials.finish(t.id, lease, {
          status: 'completed',
          map50_95: map,
          latencyMs: lat,
          sizeBytes: size,
        });
        vecs.push([-map, lat, size]);
      }
      const want = nonDominatedBrute(vecs).map((i) => ts[i]!.id);
      expect((await trials.pareto(s.id)).map((t) => t.id).sort()).toEqual(want.sort());
    });

    it('keeps trial counts per status through every transition, and drops them with the search', async () => {
      const s = await searches.create(newSearch());
      const ts = await trials.create(Array.from({ length: 4 }, (_, i) => newTrial(s.id, i)));
      const c1 = (await trials.claim(ts[0]!.id, 'w'))!;
      await trials.claim(ts[1]!.id, 'w');
      expect(await trials.counts(s.id)).toEqual({
        total: 4,
        queued: 2,
        running: 2,
        completed: 0,
        pruned: 0,
        failed: 0,
      });
      await trials.finish(ts[0]!.id, c1.lease, { status: 'pruned', map50_95: 0.1 });
      await trials.failUnfinished(s.id, 'stop');
      expect(await trials.counts(s.id)).toEqual({
        total: 4,
        queued: 0,
        running: 0,
        completed: 0,
        pruned: 1,
        failed: 3,
      });
      const page = await trials.list(s.id, { status: ['failed', 'pruned'], limit: 2 });
      expect(page.total).toBe(4);
      expect(page.items).toHaveLength(2);
      expect(await searches.delete(s.id)).toBe(true);
      expect((await trials.counts(s.id)).total).toBe(0);
      expect(await trials.get(ts[0]!.id)).toBeNull();
    });

    it('bulk-seeds trials for benchmarks', async () => {
      const s = await searches.create(newSearch());
      const t0 = performance.now();
      expect(await seedTrials(db, s.id, 3000, { seed: 1 })).toBe(3000);
      const ms = performance.now() - t0;
      const c = await trials.counts(s.id);
      expect(c.total).toBe(3000);
      expect(c.completed).toBeGreaterThan(2000);
      expect(c.failed + c.pruned).toBeGreaterThan(0);
      expect(await trials.nextNumber(s.id)).toBe(3000);
      const front = await trials.pareto(s.id);
      expect(front.length).toBeGreaterThan(0);
      expect(front.length).toBe((await paretoFront(db, s.id, ['map50_95', 'latency'])).ids.length);
      const counts = await trials.countsFor([s.id]);
      expect(counts.get(s.id)!.total).toBe(3000);
      expect(ms).toBeLessThan(30_000);
    });

    it('supernets: created training, progress renews the holder, finish is fenced, reuse only on an exact match', async () => {
      const supernets = new SupernetRepository(db);
      const match = {
        datasetFingerprint: `ds-${randomUUID()}`,
        spaceFingerprint: 'sp-1',
        activation: 'silu',
      };
      const a = await supernets.create({
        ...match,
        dataset: 'synthetic',
        searchSpace: { name: 'test' },
        imageSizes: [128, 160],
        budgetMinutes: 5,
        artifactPath: 'supernets/x',
        runnerId: 'r1',
      });
      expect(a).toMatchObject({ status: 'training', epochs: 0, imageSizes: [128, 160], progress: null });
      expect(await supernets.get(a.id)).toEqual(a);
      expect(await supernets.get('nope')).toBeNull();
      expect(await supernets.findMatch(match)).toBeNull(); // training is not ready
      expect((await supernets.findMatch(match, ['training']))?.id).toBe(a.id);

      const p = { fraction: 0.5, epoch: 3, etaSeconds: 60, message: 'epoch 3' };
      expect(await supernets.progress(a.id, 'r1', p, { epochs: 3, minutes: 2.5 })).toBe(true);
      expect(await supernets.progress(a.id, 'r2', p)).toBe(false);
      expect(await supernets.finish(a.id, 'r2', { status: 'ready' })).toBeNull();
      // A live holder keeps it; a silent one is taken over.
      expect(await supernets.takeOver(a.id, 'r2', 60_000)).toBeNull();
      const taken = await supernets.takeOver(a.id, 'r2', 0);
      expect(taken).toMatchObject({ runnerId: 'r2', status: 'training', epochs: 3, minutes: 2.5 });
      const ready = await supernets.finish(a.id, 'r2', {
        status: 'ready',
        epochs: 4,
        minutes: 3,
        metrics: { largestMap50: 0.4 },
        sizeBytes: 5_000_000_000,
      });
      expect(ready).toMatchObject({
        status: 'ready',
        epochs: 4,
        metrics: { largestMap50: 0.4 },
        sizeBytes: 5e9,
      });
      expect(ready!.progress).toMatchObject({ fraction: 1, epoch: 3 });
      expect(ready!.finishedAt).toBeInstanceOf(Date);
      expect(await supernets.takeOver(a.id, 'r3', 0)).toBeNull(); // ready is final

      expect((await supernets.findMatch(match))?.id).toBe(a.id);
      expect(await supernets.findMatch({ ...match, spaceFingerprint: 'sp-2' })).toBeNull();
      expect(await supernets.findMatch({ ...match, datasetFingerprint: 'other' })).toBeNull();
      expect(await supernets.findMatch({ ...match, activation: 'relu' })).toBeNull();

      const failed = await supernets.create({
        ...match,
        dataset: null,
        searchSpace: {},
        imageSizes: [],
        runnerId: 'r1',
      });
      await supernets.finish(failed.id, 'r1', { status: 'failed', error: 'boom' });
      expect((await supernets.findMatch(match))?.id).toBe(a.id);
      const page = await supernets.list({ limit: 1000 });
      expect(page.items.map((x) => x.id)).toEqual(expect.arrayContaining([a.id, failed.id]));
      expect((await supernets.list({ status: 'failed', limit: 1000 })).items.map((x) => x.id)).toContain(
        failed.id,
      );
    });

    it('stores the supernet estimate and the fine-tuned result on a trial, and the search its supernet', async () => {
      const s = await searches.create(
        newSearch({ evaluator: 'supernet', fineTune: { topK: 2, epochs: 3, seeds: 2 } }),
      );
      expect(s).toMatchObject({ supernetId: null, fineTune: { topK: 2, epochs: 3, seeds: 2 } });
      const sn = await new SupernetRepository(db).create({
        datasetFingerprint: 'd',
        spaceFingerprint: 's',
        activation: 'silu',
        dataset: null,
        searchSpace: {},
        imageSizes: [],
      });
      await searches.setSupernet(s.id, sn.id);
      expect((await searches.get(s.id))!.supernetId).toBe(sn.id);
      const [t] = await trials.create([newTrial(s.id, 0)]);
      const c = (await trials.claim(t!.id, 'w'))!;
      const done = await trials.finish(t!.id, c.lease, {
        status: 'completed',
        map50: 0.3,
        map50_95: 0.2,
        estimateMap50: 0.3,
        estimateMap50_95: 0.2,
        latencyMs: 2,
        objectiveValues: [-0.2, 2],
        constraintValues: [],
        onnxPath: '/tmp/estimate.onnx',
      });
      expect(done).toMatchObject({ estimateMap50: 0.3, estimateMap50_95: 0.2, finetunedMap50: null });
      const tuned = await trials.recordFineTune(t!.id, {
        finetunedMap50: 0.5,
        finetunedMap50_95: 0.31,
        finetunedMap50Std: 0.02,
        finetunedMap50_95Std: 0.01,
        finetuneEpochs: 3,
        finetuneSeeds: 2,
        onnxPath: '/tmp/tuned.onnx',
        notes: 'fine-tuned',
      });
      expect(tuned).toMatchObject({
        map50_95: 0.2,
        estimateMap50_95: 0.2,
        finetunedMap50: 0.5,
        finetunedMap50_95: 0.31,
        finetunedMap50Std: 0.02,
        finetuneSeeds: 2,
        onnxPath: '/tmp/tuned.onnx',
      });
      const row = (await trials.leaderboard(s.id, {})).items[0]!;
      expect(row).toMatchObject({ estimateMap50: 0.3, finetunedMap50: 0.5, finetunedMap50_95Std: 0.01 });
      const [queued] = await trials.create([newTrial(s.id, 1)]);
      expect(
        await trials.recordFineTune(queued!.id, {
          finetunedMap50: 1,
          finetunedMap50_95: 1,
          finetunedMap50Std: null,
          finetunedMap50_95Std: null,
          finetuneEpochs: 1,
          finetuneSeeds: 1,
        }),
      ).toBeNull();
    });
  });
}

/** O(n^2) reference: indices of non-dominated points (minimization), duplicates all kept. */
export function nonDominatedBrute(points: number[][]): number[] {
  const dom = (a: number[], b: number[]) => a.every((v, k) => v <= b[k]!) && a.some((v, k) => v < b[k]!);
  return points.map((_, i) => i).filter((i) => !points.some((q, j) => j !== i && dom(q, points[i]!)));
}

export { nonDominated };

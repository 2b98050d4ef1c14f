import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseGenome } from '@detsearch/genome';
import {
  calibrateProfile,
  getHardwareProfile,
  loadHardwareProfileFile,
  predictedProvenance,
} from '@detsearch/latency';
import {
  PgBossDispatcher,
  PgBossQueue,
  QueueWorker,
  requestMeasurements,
  SearchOrchestrator,
  SurrogateEvaluator,
  TRIAL_QUEUE,
  type QueueWorkerOptions,
  type SearchEvent,
} from '@detsearch/orchestrator';
import { MeasurementRepository } from '@detsearch/persistence';
import { newTrial } from '../persistence/repository-contract';
import { DATABASE_URL, queueSchemas, waitFor, type QueueSchemas } from './helpers';

/**
 * Distributed mode on the real Postgres with workers in this process (fast to start): the trial
 * row and its job commit together, workers share a search through the same handler as embedded
 * mode, a stopping worker hands its trial back, a cancel reaches the workers, and device workers
 * measure latency that a profile can be calibrated on. Killing worker processes is in
 * kill-worker.spec.ts.
 */
if (!DATABASE_URL) {
  describe('distributed trials (pg-boss workers)', () => {
    it.skip('needs DATABASE_URL (Postgres)', () => {});
  });
} else {
  const url = DATABASE_URL;
  describe('distributed trials (pg-boss workers)', () => {
    let db: QueueSchemas;
    let orchestrator: SearchOrchestrator;
    const workers: QueueWorker[] = [];

    const startWorker = async (o: Partial<QueueWorkerOptions> = {}, msPerTrial = 250) => {
      const w = await QueueWorker.start({
        databaseUrl: url,
        schema: db.schema,
        queueSchema: db.queueSchema,
        heartbeatMs: 200,
        staleMs: 3000,
        pollMs: 500,
        evaluators: { surrogate: new SurrogateEvaluator({ msPerTrial }) },
        ...o,
      });
      workers.push(w);
      return w;
    };
    const jobsOf = async (trialId: string) =>
      (
        await orchestrator.db.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM "${db.queueSchema}".job WHERE name = $1 AND data->>'trialId' = $2`,
          [TRIAL_QUEUE, trialId],
        )
      )[0]!.n;

    beforeAll(async () => {
      db = queueSchemas(url, 'queue');
      orchestrator = await SearchOrchestrator.open({
        databaseUrl: url,
        schema: db.schema,
        distributed: true,
        reaper: { staleMs: 3000 },
        pollMs: 500,
      });
    });
    afterAll(async () => {
      await Promise.allSettled(workers.map((w) => w.stop(0)));
      await orchestrator?.close();
      await db?.drop();
    });

    it('commits a trial row and its job together, or neither', async () => {
      const queue = await PgBossQueue.start(orchestrator.db, { schema: db.queueSchema, supervise: false });
      const dispatcher = new PgBossDispatcher(queue);
      const search = await orchestrator.searches.create({
        name: 'tx',
        strategy: 'random',
        objectives: ['map50_95', 'latency'],
        constraints: {},
        budget: { trials: 2 },
        seed: 1,
        searchSpace: {},
        hardwareProfile: 'host',
        hardwareProfileSpec: null,
        preset: null,
        dataset: null,
        fidelity: { epochs: 1 },
        evaluator: 'surrogate',
        request: {},
        // Not 'running' with no runner: the orphan sweep must leave it alone.
        status: 'completed',
      });
      let rolledBack = '';
      await expect(
        orchestrator.db.transaction(async (tx) => {
          const [t] = await orchestrator.trials.create([newTrial(search.id, 0)], tx);
          await dispatcher.enqueue(tx, [t!]);
          rolledBack = t!.id;
          throw new Error('crash between the job and the commit');
        }),
      ).rejects.toThrow('crash');
      expect(await orchestrator.trials.get(rolledBack)).toBeNull();
      expect(await jobsOf(rolledBack)).toBe(0);

      const kept = await orchestrator.db.transaction(async (tx) => {
        const [t] = await orchestrator.trials.create([newTrial(search.id, 0)], tx);
        await dispatcher.enqueue(tx, [t!]);
        return t!;
      });
      expect(await jobsOf(kept.id)).toBe(1);
      await orchestrator.db.query(`UPDATE trials SET status = 'failed' WHERE id = $1`, [kept.id]);
      await queue.stop();
    });

    it('runs a search on two workers: exactly the budget, one job per trial, progress relayed', async () => {
      const [a, b] = await Promise.all([startWorker(), startWorker()]);
      const budget = 8;
      const events: SearchEvent[] = [];
      const { id } = await orchestrator.createSearch({
        strategy: 'nsga2',
        evaluator: 'surrogate',
        budget: { trials: budget },
        seed: 5,
        fidelity: { epochs: 3, minEpochs: 1, eta: 3 },
      });
      const off = orchestrator.subscribe(id, (e) => events.push(e));
      const done = await orchestrator.waitForSearch(id);
      off();
      expect(done.status).toBe('completed');
      const trials = (await orchestrator.listTrials(id, { limit: 100 })).items;
      expect(trials).toHaveLength(budget);
      expect(trials.map((t) => t.number).sort((x, y) => x - y)).toEqual([...Array(budget).keys()]);
      expect(trials.every((t) => t.status === 'completed' || t.status === 'pruned')).toBe(true);
      expect(trials.some((t) => t.status === 'pruned')).toBe(true); // ASHA decided on the workers
      expect(trials.every((t) => t.attempts === 1 && [a!.id, b!.id].includes(t.workerId!))).toBe(true);
      for (const t of trials) expect(await jobsOf(t.id)).toBe(1);
      expect(a!.stats.finished + b!.stats.finished).toBe(budget);
      expect(a!.stats.finished).toBeGreaterThan(0);
      expect(b!.stats.finished).toBeGreaterThan(0);
      // Workers' events reach this process's subscribers, each trial completing once.
      const completedEvents = events.filter((e) => e.type === 'trial-completed');
      expect(new Set(completedEvents.map((e) => e.trialId)).size).toBe(budget);
      expect(completedEvents).toHaveLength(budget);
      expect(events.filter((e) => e.type === 'search-completed')).toHaveLength(1);
      expect(done.best).not.toBeNull();
      await Promise.all([a!.stop(), b!.stop()]);
      expect(await orchestrator.workers.live(60_000)).toEqual([]);
    });

    it('a stopping worker hands its running trial back; another finishes it', async () => {
      const leaving = await startWorker({ graceMs: 0 }, 4000);
      const { id } = await orchestrator.createSearch({
        strategy: 'random',
        evaluator: 'surrogate',
        budget: { trials: 1 },
        seed: 9,
        fidelity: { epochs: 2 },
      });
      const running = await waitFor(
        async () => (await orchestrator.listTrials(id, { status: 'running' })).items[0],
        30_000,
        'the trial to start',
      );
      expect(running.workerId).toBe(leaving.id);
      await leaving.stop();
      expect(leaving.stats.released).toBe(1);
      const back = await orchestrator.getTrial(running.id);
      expect(back).toMatchObject({ status: 'queued', workerId: null });
      expect(await jobsOf(running.id)).toBe(2); // the original job and the one the release sent

      const taker = await startWorker();
      const done = await orchestrator.waitForSearch(id);
      expect(done.progress).toMatchObject({ completed: 1, total: 1 });
      expect(await orchestrator.getTrial(running.id)).toMatchObject({
        status: 'completed',
        workerId: taker.id,
        attempts: 2,
      });
      await taker.stop();
    });

    it('a cancel reaches the workers: their running trials stop and nothing is recorded after', async () => {
      const w = await startWorker({ concurrency: 2 }, 20_000);
      const { id } = await orchestrator.createSearch({
        strategy: 'random',
        evaluator: 'surrogate',
        budget: { trials: 4 },
        seed: 2,
        fidelity: { epochs: 4 },
      });
      await waitFor(async () => w.busy === 2, 30_000, 'both slots busy');
      const t0 = Date.now();
      const cancelled = await orchestrator.cancel(id);
      expect(cancelled.status).toBe('cancelled');
      // The notification aborts them long before their 20 s evaluation would end.
      await waitFor(async () => w.busy === 0, 10_000, 'the worker to drop the cancelled trials');
      expect(Date.now() - t0).toBeLessThan(10_000);
      const trials = (await orchestrator.listTrials(id, { limit: 10 })).items;
      expect(trials.every((t) => t.status === 'failed' && t.error === 'search cancelled')).toBe(true);
      await w.stop();
    });

    it('measures latency on a device worker and calibrates the profile from the stored results', async () => {
      const profile = 'raspberry-pi-4';
      const measurements = new MeasurementRepository(orchestrator.db);
      const queue = await PgBossQueue.start(orchestrator.db, { schema: db.queueSchema, supervise: false });
      const genomes = [0.25, 0.5].map((w) =>
        parseGenome({ depthMultiple: 0.33, widthMultiple: w, imageSize: 64, numClasses: 2 }),
      );
      const requested = await requestMeasurements(
        orchestrator.db,
        measurements,
        queue,
        profile,
        genomes.map((genome) => ({ genome })),
      );
      await queue.stop();
      expect(requested.map((m) => m.status)).toEqual(['queued', 'queued']);

      const home = mkdtempSync(join(tmpdir(), 'detsearch-device-'));
      const device = await startWorker({
        kind: 'measure',
        profile,
        measure: { runs: 3, warmup: 1, threads: 1, calibrationHome: home, minCalibrationSamples: 2 },
      });
      await waitFor(
        async () => (await measurements.list(profile, 'done')).length === 2,
        60_000,
        'both measurements',
      );
      const rows = await measurements.list(profile, 'done');
      expect(rows.every((m) => m.workerId === device.id && m.medianMs! > 0 && m.onnxBytes! > 0)).toBe(true);
      const samples = await measurements.samples(profile);
      expect(samples).toHaveLength(2);
      const fitted = calibrateProfile(
        getHardwareProfile(profile),
        samples.map((s) => ({ model: s.genome, measuredMs: s.medianMs })),
      );
      expect(fitted.fits[0]!.samples).toBe(2);
      // The worker fed both measurements back into the device's profile under its DETSEARCH_HOME.
      const saved = join(home, 'profiles', `${profile}.yaml`);
      await waitFor(
        async () => existsSync(saved) && loadHardwareProfileFile(saved).calibration?.samples.fp32 === 2,
        30_000,
        'the refitted profile',
      );
      expect(loadHardwareProfileFile(saved).calibration).toMatchObject({ basis: 'device' });
      expect(predictedProvenance(loadHardwareProfileFile(saved))).toMatch(
        /^predicted for raspberry-pi-4 \(roofline calibrated on 2 measurements from the device/,
      );
      await device.stop();
      rmSync(home, { recursive: true, force: true });
    });
  });
}

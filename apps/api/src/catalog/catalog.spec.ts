import type { NestExpressApplication } from '@nestjs/platform-express';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OBJECTIVES, STRATEGY_NAMES, TRIAL_STATUSES } from '@detsearch/domain';
import { createApp } from '../create-app';
import { FakeOrchestrator } from '../testing/fake-orchestrator';

describe('GET /catalog', () => {
  let app: NestExpressApplication;

  beforeAll(async () => {
    app = await createApp({
      env: {},
      config: { API_KEY: 'test-key-0123456789', LOG_LEVEL: 'silent' },
      orchestrator: new FakeOrchestrator(),
    });
  });
  afterAll(() => app.close());

  it('lists every registry with exactly the documented fields', async () => {
    const { body } = await request(app.getHttpServer()).get('/catalog').expect(200);
    expect(Object.keys(body).sort()).toEqual(
      [
        'constraints',
        'evaluators',
        'genomeDimensions',
        'hardwareProfiles',
        'objectives',
        'presets',
        'strategies',
        'trialStatuses',
      ].sort(),
    );
    const keys = (items: object[]) => [...new Set(items.map((i) => Object.keys(i).sort().join(',')))];
    expect(keys(body.strategies)).toEqual(['description,label,multiObjective,name']);
    expect(keys(body.evaluators)).toEqual(['analytic,description,label,name,trains']);
    expect(keys(body.objectives)).toEqual(['column,direction,label,name,unit']);
    expect(keys(body.constraints)).toEqual(['column,label,name,unit']);
    expect(keys(body.genomeDimensions)).toEqual(['description,kind,label,name']);
    expect(keys(body.trialStatuses)).toEqual(['name,terminal']);
    expect(keys(body.presets)).toEqual(['description,hardwareProfile,name,strategy,syntheticData']);
    expect(keys(body.hardwareProfiles)).toEqual(['description,name']);

    expect(body.strategies.map((s: { name: string }) => s.name)).toEqual([...STRATEGY_NAMES]);
    expect(body.objectives.map((o: { name: string }) => o.name)).toEqual([...OBJECTIVES]);
    expect(body.trialStatuses.map((s: { name: string }) => s.name)).toEqual([...TRIAL_STATUSES]);
    expect(body.evaluators).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ name: 'surrogate', analytic: true, trains: false }),
        expect.objectContaining({ name: 'full', analytic: false, trains: true }),
      ]),
    );
    expect(body.objectives).toContainEqual(
      expect.objectContaining({ name: 'map50_95', column: 'map50_95', direction: 'maximize' }),
    );
    expect(body.presets.find((p: { name: string }) => p.name === 'quick-demo')).toMatchObject({
      syntheticData: true,
    });
    expect(body.hardwareProfiles.map((p: { name: string }) => p.name)).toContain('host');
  });
});

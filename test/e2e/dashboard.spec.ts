import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootApp, POSTGRES_URL, waitFor, type TestApp } from '../api/helpers';

/** Debian's chromium (CI installs it with apt-get); no browser download. */
const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const HAS_CHROMIUM = existsSync(CHROMIUM);
const ARTIFACTS = resolve(__dirname, '../artifacts');
const DONE_TRIALS = 12;
const LIVE_TRIALS = 6;
const LIVE_TRIAL_MS = 3_000;

/*
 * What the page exposes to page.evaluate: the spec compiles without the DOM library, so the
 * browser globals it touches are typed here (the casts vanish when the callbacks are serialized).
 */
interface ChartLike {
  data: { datasets: { data: unknown[] }[] };
}
interface PageGlobals {
  Chart?: { getChart(id: string): ChartLike | undefined };
  document: {
    scrollingElement: { scrollWidth: number };
    querySelectorAll(selector: string): ArrayLike<{ textContent: string | null; className: string }>;
  };
  MutationObserver: new (cb: () => void) => { observe(target: unknown, options: object): void };
  addEventListener(type: string, cb: () => void): void;
  __seen?: { rows: number[]; live: string[] };
}

/** Waits until an element matching `selector` shows `text` (playwright-core has no expect). */
async function see(page: Page, selector: string, text: string | RegExp, timeout = 15_000): Promise<void> {
  await page.locator(selector, { hasText: text }).first().waitFor({ timeout });
}

/** Points (or datasets) each chart on the page draws, by canvas id. */
async function chartSizes(page: Page, ids: string[]): Promise<Record<string, number>> {
  return page.evaluate(
    (names) =>
      Object.fromEntries(
        names.map((n) => [
          n,
          (globalThis as unknown as PageGlobals).Chart?.getChart(n)?.data.datasets.reduce(
            (k, d) => k + d.data.length,
            0,
          ) ?? -1,
        ]),
      ),
    ids,
  );
}

describe.skipIf(!HAS_CHROMIUM)(
  HAS_CHROMIUM
    ? 'dashboard in headless Chromium'
    : `dashboard in headless Chromium (skipped: no browser at ${CHROMIUM}; apt-get install chromium, or set CHROMIUM_PATH)`,
  () => {
    let t: TestApp;
    let url: string;
    let browser: Browser;
    let context: BrowserContext;
    let doneId: string;
    const problems: string[] = [];

    const watch = (page: Page) => {
      page.on('console', (msg) => {
        // Failed loads are judged by their response below (optional routes may 404).
        if (msg.type() === 'error' && !msg.text().startsWith('Failed to load resource'))
          problems.push(`console: ${msg.text()}`);
      });
      page.on('response', (res) => {
        // Routes another server version may lack: the page hides what they would feed.
        const optional = /\/(catalog|supernets|searches\/estimate)$/.test(new URL(res.url()).pathname);
        if (res.status() >= 400 && !(optional && res.status() === 404))
          problems.push(`HTTP ${res.status()}: ${res.request().method()} ${res.url()}`);
      });
      page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
      page.on('requestfailed', (req) => {
        // An EventSource or fetch the page drops when it navigates shows as aborted.
        if (!/\/events|net::ERR_ABORTED/.test(`${req.url()} ${req.failure()?.errorText}`))
          problems.push(`request failed: ${req.url()} ${req.failure()?.errorText}`);
      });
      return page;
    };

    beforeAll(async () => {
      const launching = chromium.launch({
        executablePath: CHROMIUM,
        args: [
          '--no-sandbox',
          '--disable-gpu',
          '--disable-background-networking',
          '--disable-component-update',
          '--no-first-run',
        ],
      });
      try {
        // Slow surrogate trials (read per evaluation) so they arrive one by one while the page watches.
        t = await bootApp(POSTGRES_URL ? 'postgres' : 'pglite', 'dashboard', {
          DETSEARCH_SURROGATE_MS: 700,
        });
      } finally {
        browser = await launching;
      }
      await t.app.listen(0, '127.0.0.1');
      const address = t.app.getHttpServer().address();
      url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
      context = await browser.newContext({ viewport: { width: 1400, height: 900 }, acceptDownloads: true });

      // A finished search with infeasible trials (latency limit) to open by its link.
      const created = await t
        .http()
        .post('/searches')
        .send({
          name: 'e2e-finished',
          strategy: 'random',
          objectives: ['map50_95', 'latency'],
          budget: { trials: DONE_TRIALS },
          seed: 3,
          hardwareProfile: 'jetson-orin-nano',
          constraints: { maxLatencyMs: 9 },
          fidelity: { epochs: 3, minEpochs: 1, eta: 2 },
          evaluator: 'surrogate',
        })
        .expect(201);
      doneId = created.body.id;
      await waitFor(
        async () =>
          (await t.http().get(`/searches/${doneId}`)).body.status === 'completed' ? true : undefined,
        60_000,
        'the seeded search',
      );
    }, 120_000);

    afterAll(async () => {
      await browser?.close();
      await t?.close();
    });

    it('opens a search page cold from its link and draws every plot without console errors', async () => {
      const page = watch(await context.newPage());
      await page.goto(`${url}/#/searches/${doneId}`);
      await see(page, '#summary h1', 'e2e-finished');
      await page.waitForFunction(
        (n) =>
          (globalThis as unknown as PageGlobals).document.querySelectorAll('#leaderboard tbody tr[data-id]')
            .length === n,
        DONE_TRIALS,
      );
      // Ranked order: every feasible row above every infeasible one.
      const feas = await page.locator('#leaderboard tbody tr[data-id] td:nth-child(4)').allTextContents();
      expect(feas.indexOf('no')).toBeGreaterThan(-1);
      expect(feas.lastIndexOf('yes')).toBeLessThan(feas.indexOf('no'));

      await page.waitForFunction(
        () =>
          ((globalThis as unknown as PageGlobals).Chart?.getChart('importance-chart')?.data.datasets[0]?.data
            .length ?? 0) > 0,
      );
      // Parallel coordinates and slices draw once scrolled into view.
      await page.locator('#parcoords').scrollIntoViewIfNeeded();
      await page.waitForFunction(
        () =>
          ((globalThis as unknown as PageGlobals).Chart?.getChart('slice-0')?.data.datasets[0]?.data.length ??
            0) > 0,
      );
      const sizes = await chartSizes(page, [
        'pareto-chart',
        'hv-chart',
        'curve-chart',
        'importance-chart',
        'slice-0',
      ]);
      expect(sizes['pareto-chart']).toBeGreaterThanOrEqual(DONE_TRIALS - 2);
      for (const [name, n] of Object.entries(sizes)) expect(n, name).toBeGreaterThan(0);
      expect(await page.locator('#parcoords svg polyline').count()).toBeGreaterThan(0);
      // The latency limit shows as infeasible crosses in the Pareto plot.
      const infeasible = await page.evaluate(
        () =>
          (globalThis as unknown as PageGlobals).Chart!.getChart('pareto-chart')!.data.datasets[2]!.data
            .length,
      );
      expect(infeasible).toBeGreaterThan(0);

      // Zoom: a drag narrows the x axis, a double-click restores it.
      await page.locator('#pareto-chart').scrollIntoViewIfNeeded();
      const box = (await page.locator('#pareto-chart').boundingBox())!;
      await page.mouse.move(box.x + box.width * 0.3, box.y + box.height * 0.2);
      await page.mouse.down();
      await page.mouse.move(box.x + box.width * 0.6, box.y + box.height * 0.7, { steps: 4 });
      await page.mouse.up();
      const zoomed = await page.evaluate(() => {
        const c = (
          globalThis as unknown as {
            Chart: { getChart(id: string): { scales: { x: { min: number; max: number } } } };
          }
        ).Chart.getChart('pareto-chart')!;
        return [c.scales.x.min, c.scales.x.max];
      });
      await page.mouse.dblclick(box.x + box.width / 2, box.y + box.height / 2);
      const reset = await page.evaluate(() => {
        const c = (
          globalThis as unknown as {
            Chart: { getChart(id: string): { scales: { x: { min: number; max: number } } } };
          }
        ).Chart.getChart('pareto-chart')!;
        return [c.scales.x.min, c.scales.x.max];
      });
      expect(zoomed[1]! - zoomed[0]!).toBeLessThan(reset[1]! - reset[0]!);

      // Two trials side by side.
      await page.locator('#leaderboard tbody tr[data-id] td.pick input').nth(0).check();
      await page.locator('#leaderboard tbody tr[data-id] td.pick input').nth(1).check();
      await page.waitForFunction(
        () =>
          (globalThis as unknown as PageGlobals).document.querySelectorAll('#compare table tr:first-child td')
            .length === 2,
      );

      // A filter with no match says so, not "No trials yet".
      await page.selectOption('#status-filter', 'running');
      await see(page, '#leaderboard td.empty', 'No trials match these filters.');

      mkdirSync(ARTIFACTS, { recursive: true });
      await page.screenshot({ path: resolve(ARTIFACTS, 'dashboard-search.png'), fullPage: true });
      await page.close();
      expect(problems).toEqual([]);
    }, 60_000);

    it('downloads the leaderboard view as CSV', async () => {
      const page = watch(await context.newPage());
      await page.goto(`${url}/#/searches/${doneId}`);
      await page.selectOption('#feasible-filter', 'false');
      await page.waitForFunction(
        () =>
          (globalThis as unknown as PageGlobals).document.querySelectorAll('#leaderboard tbody tr[data-id]')
            .length > 0,
      );
      const shown = await page.locator('#leaderboard tbody tr[data-id]').count();
      const [download] = await Promise.all([page.waitForEvent('download'), page.click('#csv-link')]);
      const csv = readFileSync((await download.path())!, 'utf8')
        .trim()
        .split('\n');
      expect(csv[0]).toContain('feasible');
      expect(csv.length - 1).toBe(shown);
      expect(csv.slice(1).every((line) => line.includes(',false,'))).toBe(true);
      await page.close();
      expect(problems).toEqual([]);
    }, 60_000);

    it('opens a trial page from the leaderboard and survives a reload', async () => {
      const page = watch(await context.newPage());
      await page.goto(`${url}/#/searches/${doneId}`);
      await page.locator('#leaderboard tbody tr[data-id] td:nth-child(2)').first().click();
      await page.waitForURL(/#\/trials\/[\w-]+$/);
      await see(page, '#trial-summary h1', /Trial #\d+/);
      const before = await page.locator('#trial-summary h1').textContent();
      await page.reload();
      await see(page, '#trial-summary h1', before!);
      await see(page, '#latency', 'on jetson-orin-nano (ranked)');
      await see(page, '.crumbs a', 'e2e-finished');
      await page.close();
      expect(problems).toEqual([]);
    }, 60_000);

    it('launches from the form, shows field errors there, and follows the run live', async () => {
      const page = watch(await context.newPage());
      await page.addInitScript(() => {
        const w = globalThis as unknown as PageGlobals;
        const seen = { rows: [] as number[], live: [] as string[] };
        w.__seen = seen;
        w.addEventListener('DOMContentLoaded', () => {
          new w.MutationObserver(() => {
            const rows = w.document.querySelectorAll('#leaderboard tbody tr[data-id]').length;
            if (rows !== seen.rows[seen.rows.length - 1]) seen.rows.push(rows);
            const live = w.document.querySelectorAll('#live')[0]?.className ?? '';
            if (live && live !== seen.live[seen.live.length - 1]) seen.live.push(live);
          }).observe(w.document, { childList: true, subtree: true, attributes: true });
        });
      });
      await page.goto(url);
      await page.waitForSelector('#launch');
      await page.fill('input[name=trials]', '');
      await page.click('#launch-button');
      await see(page, '.field[data-for=trials] .field-error', 'Trials: required');
      await page.fill('input[name=trials]', String(LIVE_TRIALS));
      await page.fill('input[name=epochs]', '0');
      await page.click('#launch-button');
      await see(page, '.field[data-for=epochs] .field-error', 'Epochs per trial: at least 1');
      expect(await page.locator('.field-error:not(:empty)').count()).toBe(1);
      await page.fill('input[name=epochs]', '3');
      await page.fill('input[name=name]', 'e2e-live');
      await page.fill('input[name=seed]', '7');
      await page.check('input[name=evaluator][value=surrogate]');

      // Three waves of two trials, each long enough that the page has subscribed to the events
      // (a busy 2-core machine can take seconds to open it) before the first trial ends.
      t.surrogate.msPerTrial = LIVE_TRIAL_MS;
      const [created] = await Promise.all([
        page.waitForResponse((r) => r.url().endsWith('/searches') && r.request().method() === 'POST'),
        page.click('#launch-button'),
      ]);
      expect(created.status()).toBe(201);
      const { id } = (await created.json()) as { id: string };
      await page.waitForURL(`**/#/searches/${id}`);
      await see(page, '#search-status .status', /^completed$/, 60_000);
      t.surrogate.msPerTrial = 700;
      // The budget's trials, plus those the search started from (a warm start copies the earlier
      // search's front: the same space and dataset).
      const listed = (await t.http().get(`/searches/${id}/trials?limit=1`).expect(200)).body.total as number;
      expect(listed).toBeGreaterThanOrEqual(LIVE_TRIALS);
      await page.waitForFunction(
        (n) =>
          (globalThis as unknown as PageGlobals).document.querySelectorAll('#leaderboard tbody tr[data-id]')
            .length === n,
        listed,
      );
      await see(page, '#summary', /finished\s*\w{3} \d+/);
      const seen = await page.evaluate(() => (globalThis as unknown as PageGlobals).__seen!);
      expect(
        seen.rows.some((n) => n > 0 && n < listed),
        `row counts seen: ${seen.rows}`,
      ).toBe(true);
      expect(seen.live).toContain('live state-live');
      expect(seen.live.at(-1)).toBe('live state-ended');

      // Clone fills the form; delete asks first.
      await page.click('#clone');
      await page.waitForURL(`**/#/clone/${id}`);
      expect(await page.inputValue('input[name=trials]')).toBe(String(LIVE_TRIALS));
      expect(await page.inputValue('input[name=name]')).toBe('e2e-live (copy)');
      await page.goto(`${url}/#/searches/${id}`);
      page.once('dialog', (d) => void d.accept());
      await page.click('#delete');
      await page.waitForURL(/#\/$/);
      expect((await t.http().get(`/searches/${id}`)).status).toBe(404);
      await page.close();
      expect(problems).toEqual([]);
    }, 120_000);

    it('fits a 390 px phone without horizontal overflow', async () => {
      const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true });
      const page = watch(await phone.newPage());
      const trial = (await t.http().get(`/searches/${doneId}/trials?limit=1`)).body.items[0].id as string;
      for (const [hash, ready] of [
        ['#/', '#launch'],
        [`#/searches/${doneId}`, '#leaderboard tbody tr[data-id]'],
        [`#/trials/${trial}`, '#trial-summary'],
      ] as const) {
        await page.goto(`${url}/${hash}`);
        await page.waitForSelector(ready);
        await page.waitForTimeout(300);
        const width = await page.evaluate(
          () => (globalThis as unknown as PageGlobals).document.scrollingElement.scrollWidth,
        );
        expect(width, hash).toBeLessThanOrEqual(390);
        await page.screenshot({
          path: resolve(ARTIFACTS, `dashboard-390-${hash.split('/')[1] || 'home'}.png`),
          fullPage: true,
        });
      }
      await phone.close();
      expect(problems).toEqual([]);
    }, 60_000);
  },
);

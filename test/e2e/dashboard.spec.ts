import { existsSync, mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootApp, POSTGRES_URL, type TestApp } from '../api/helpers';

/** Debian's chromium (CI installs it with apt-get); no browser download. */
const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const HAS_CHROMIUM = existsSync(CHROMIUM);
const ARTIFACTS = resolve(__dirname, '../artifacts');
const TRIALS = 6;

/*
 * What the page exposes to page.evaluate: the spec compiles without the DOM library, so the
 * browser globals it touches are typed here (the casts vanish when the callbacks are serialized).
 */
interface ChartLike {
  data: { datasets: { label?: string; data: unknown[] }[] };
  getDatasetMeta(index: number): { data: { x: number; y: number }[] };
  tooltip: { body?: { lines: string[] }[]; title?: string[] } | null;
}
interface CanvasLike {
  width: number;
  height: number;
  getContext(kind: '2d'): {
    getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray };
  };
}
interface PageGlobals {
  Chart?: { getChart(id: string): ChartLike | undefined };
  document: {
    getElementById(id: string): CanvasLike | null;
    querySelectorAll(selector: string): ArrayLike<{ textContent: string | null; className: string }>;
  };
  MutationObserver: new (cb: () => void) => { observe(target: unknown, options: object): void };
  addEventListener(type: string, cb: () => void): void;
  __seen?: { rows: number[]; live: string[] };
}

/** Waits until an element matching `selector` shows `text` (playwright-core has no expect). */
async function see(page: Page, selector: string, text: string | RegExp, timeout = 10_000): Promise<void> {
  await page.locator(selector, { hasText: text }).first().waitFor({ timeout });
}

describe.skipIf(!HAS_CHROMIUM)(
  HAS_CHROMIUM
    ? 'dashboard in headless Chromium'
    : `dashboard in headless Chromium (skipped: no browser at ${CHROMIUM}; apt-get install chromium, or set CHROMIUM_PATH)`,
  () => {
    let t: TestApp;
    let url: string;
    let browser: Browser;
    let page: Page;
    const problems: string[] = [];

    beforeAll(async () => {
      // The browser starts while the app boots (both take seconds on a busy machine).
      const launching = chromium.launch({
        executablePath: CHROMIUM,
        args: [
          '--no-sandbox',
          '--disable-gpu',
          '--disable-background-networking',
          '--disable-component-update',
          '--disable-sync',
          '--no-first-run',
          '--disable-quic',
        ],
      });
      try {
        // Slow surrogate trials (read per evaluation) so they arrive one by one while the page watches.
        t = await bootApp(POSTGRES_URL ? 'postgres' : 'pglite', 'dashboard', {
          DETSEARCH_SURROGATE_MS: 1500,
        });
      } finally {
        browser = await launching;
      }
      await t.app.listen(0, '127.0.0.1');
      const address = t.app.getHttpServer().address();
      url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
      page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
      page.on('console', (msg) => {
        if (msg.type() === 'error') problems.push(`console: ${msg.text()}`);
      });
      page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
      page.on('requestfailed', (req) => {
        // An EventSource the page closes itself shows as an aborted request; anything else is a fault.
        if (!req.url().includes('/events')) problems.push(`request failed: ${req.url()}`);
      });
      // Record every leaderboard size and live-stream state the page goes through.
      await page.addInitScript(() => {
        const g = globalThis as unknown as PageGlobals;
        const seen = { rows: [] as number[], live: [] as string[] };
        g.__seen = seen;
        g.addEventListener('DOMContentLoaded', () => {
          new g.MutationObserver(() => {
            const rows = g.document.querySelectorAll('#leaderboard tbody tr[data-id]').length;
            if (rows !== seen.rows[seen.rows.length - 1]) seen.rows.push(rows);
            const live = g.document.querySelectorAll('#live')[0]?.className ?? '';
            if (live && live !== seen.live[seen.live.length - 1]) seen.live.push(live);
          }).observe(g.document, { childList: true, subtree: true, attributes: true });
        });
      });
    });

    afterAll(async () => {
      await browser?.close();
      await t?.close();
    });

    it('launches a surrogate search from the form and follows it live to a Pareto plot', async () => {
      await page.goto(url);
      await page.waitForSelector('#launch');
      await see(page, '#searches tbody', 'No searches yet');
      await see(page, 'label.radio', 'surrogate: analytic stand-in');

      // The preset fills the form; the user narrows it to a few trials on the surrogate.
      await page.selectOption('select[name=preset]', 'quick-demo');
      expect(await page.inputValue('select[name=hardwareProfile]')).toBe('host');
      await see(page, '#preset-desc', 'Demo on this host');
      await page.fill('input[name=name]', 'e2e-dashboard');
      await page.fill('input[name=trials]', String(TRIALS));
      await page.fill('input[name=seed]', '7');
      await page.check('input[name=evaluator][value=surrogate]');
      const [created] = await Promise.all([
        page.waitForResponse((r) => r.url().endsWith('/searches') && r.request().method() === 'POST'),
        page.click('#launch-button'),
      ]);
      expect(created.status()).toBe(201);
      const { id } = (await created.json()) as { id: string };
      await page.waitForURL(`**/#/searches/${id}`);
      await see(page, '#summary .banner', 'Surrogate evaluator');

      // Trials arrive in the leaderboard through the event stream until the search completes.
      await page.waitForSelector('#leaderboard tbody tr[data-id]', { timeout: 30_000 });
      await see(page, '#search-status .status', /^completed$/, 45_000);
      await see(page, '#search-progress', `${TRIALS}/${TRIALS}`);
      await page.waitForFunction(
        (n) =>
          (globalThis as unknown as PageGlobals).document.querySelectorAll('#leaderboard tbody tr[data-id]')
            .length === n,
        TRIALS,
      );
      const seen = await page.evaluate(() => (globalThis as unknown as PageGlobals).__seen!);
      expect(
        seen.rows.some((n) => n > 0 && n < TRIALS),
        `row counts seen: ${seen.rows}`,
      ).toBe(true);
      expect(seen.live, `stream states seen: ${seen.live}`).toContain('live state-live');
      expect(seen.live.at(-1)).toBe('live state-ended');

      // The Pareto scatter: a Chart with every measured trial, the front (as the API exports it) in red.
      const apiFront = (await (await fetch(`${url}/searches/${id}/pareto`)).json()) as { points: unknown[] };
      expect(apiFront.points.length).toBeGreaterThan(0);
      await page.waitForFunction(
        ([front, total]) => {
          const sets = (globalThis as unknown as PageGlobals).Chart?.getChart('pareto-chart')?.data.datasets;
          return sets?.[0]?.data.length === front && sets.reduce((n, d) => n + d.data.length, 0) === total;
        },
        [apiFront.points.length, TRIALS],
      );
      const pareto = await page.evaluate(() => {
        const g = globalThis as unknown as PageGlobals;
        const chart = g.Chart!.getChart('pareto-chart')!;
        const canvas = g.document.getElementById('pareto-chart')!;
        const pixels = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
        let red = 0;
        for (let i = 0; i < pixels.length; i += 4)
          if (pixels[i]! > 190 && pixels[i + 1]! < 80 && pixels[i + 2]! < 80 && pixels[i + 3]! > 200) red++;
        return {
          sizes: chart.data.datasets.map((d) => d.data.length),
          labels: chart.data.datasets.map((d) => d.label ?? ''),
          red,
          front: chart.getDatasetMeta(0).data.map((p) => ({ x: p.x, y: p.y })),
        };
      });
      expect(pareto.labels[0]).toMatch(/^Pareto front/);
      expect(pareto.sizes[0]).toBe(apiFront.points.length);
      expect(pareto.sizes.reduce((a, b) => a + b, 0)).toBe(TRIALS);
      expect(pareto.red, 'red front pixels on the canvas').toBeGreaterThan(50);

      // Hovering a front point shows its genome.
      const box = (await page.locator('#pareto-chart').boundingBox())!;
      await page.mouse.move(box.x + pareto.front[0]!.x, box.y + pareto.front[0]!.y);
      await page.waitForFunction(
        () =>
          ((globalThis as unknown as PageGlobals).Chart?.getChart('pareto-chart')?.tooltip?.body?.length ??
            0) > 0,
      );
      const tooltip = await page.evaluate(() => {
        const tip = (globalThis as unknown as PageGlobals).Chart!.getChart('pareto-chart')!.tooltip!;
        return [...(tip.title ?? []), ...(tip.body ?? []).flatMap((b) => b.lines)].join('\n');
      });
      expect(tooltip).toMatch(/trial #\d+/);
      expect(tooltip).toMatch(/depth × [\d.]+, width × [\d.]+/);

      // Hypervolume history and learning curves are drawn from the same trials.
      const other = await page.evaluate(() => {
        const C = (globalThis as unknown as PageGlobals).Chart!;
        return {
          hv: C.getChart('hv-chart')!.data.datasets[0]!.data.length,
          curves: C.getChart('curve-chart')!.data.datasets.length,
        };
      });
      expect(other.hv).toBeGreaterThan(0);
      expect(other.curves).toBeGreaterThanOrEqual(TRIALS);

      // Sorting is the server's: a click on the latency header asks for sort=-latencyMs.
      const [sorted] = await Promise.all([
        page.waitForResponse((r) => r.url().includes(`/searches/${id}/trials?sort=-latencyMs`)),
        page.click('#leaderboard th[data-key=latencyMs]'),
      ]);
      const order = ((await sorted.json()) as { items: { number: number }[] }).items.map((x) => x.number);
      await page.waitForSelector('#leaderboard th[data-key=latencyMs][aria-sort=descending]');
      const shown = await page.locator('#leaderboard tbody tr[data-id] td:first-child').allTextContents();
      expect(shown.map((s) => Number.parseInt(s, 10))).toEqual(order);

      mkdirSync(ARTIFACTS, { recursive: true });
      await page.screenshot({ path: resolve(ARTIFACTS, 'dashboard.png'), fullPage: true });

      // Back on the list, the search shows as completed with its full progress.
      await page.click('.crumbs a');
      const row = page.locator(`#searches tr[data-id="${id}"]`);
      await row.locator('.status', { hasText: /^completed$/ }).waitFor();
      const rowText = await row.innerText();
      expect(rowText).toContain(`${TRIALS}/${TRIALS}`);
      expect(rowText).toContain('surrogate');
      await page.screenshot({ path: resolve(ARTIFACTS, 'dashboard-home.png'), fullPage: true });

      expect(problems).toEqual([]);
    }, 120_000);
  },
);

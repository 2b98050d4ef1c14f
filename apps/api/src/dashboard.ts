import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { NestExpressApplication } from '@nestjs/platform-express';

/** apps/api/public from the sources (apps/api/src) or the build (dist/apps/api/src). */
export function dashboardDir(): string | undefined {
  return [resolve(__dirname, '../public'), resolve(__dirname, '../../../../apps/api/public')].find((d) =>
    existsSync(resolve(d, 'index.html')),
  );
}

/** Chart.js's browser bundle, served from the installed package rather than a vendored copy. */
function chartJsDir(): string | undefined {
  try {
    // The package's exports hide dist/ subpaths; its main entry lives in dist/ beside the UMD bundle.
    const dir = dirname(require.resolve('chart.js'));
    return existsSync(resolve(dir, 'chart.umd.min.js')) ? dir : undefined;
  } catch {
    return undefined;
  }
}

/** The dashboard page at /, Chart.js at /vendor. Static GETs only; the API routes are unaffected. */
export function serveDashboard(app: NestExpressApplication): void {
  const dir = dashboardDir();
  if (!dir) return;
  const chart = chartJsDir();
  if (chart) app.useStaticAssets(chart, { prefix: '/vendor/', index: false });
  app.useStaticAssets(dir, { index: 'index.html', maxAge: '5m' });
}

/**
 * Writes the OpenAPI document to openapi.json at the repository root (committed, so API changes
 * show in review; app.spec.ts fails when it is stale). Needs no database.
 *   node -r @swc-node/register apps/api/src/write-openapi.ts [out]
 */
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { createApp } from './create-app';
import { buildOpenApiDocument } from './openapi';
import { FakeOrchestrator } from './testing/fake-orchestrator';

export const OPENAPI_PATH = resolve(__dirname, '../../../openapi.json');

export async function renderOpenApi(): Promise<string> {
  const app = await createApp({
    env: {},
    config: { LOG_LEVEL: 'silent' },
    orchestrator: new FakeOrchestrator(),
  });
  try {
    return `${JSON.stringify(buildOpenApiDocument(app), null, 2)}\n`;
  } finally {
    await app.close();
  }
}

if (require.main === module) {
  const out = resolve(process.argv[2] ?? OPENAPI_PATH);
  renderOpenApi()
    .then((text) => {
      writeFileSync(out, text);
      process.stdout.write(`wrote ${out}\n`);
    })
    .catch((err) => {
      process.stderr.write(`write-openapi: ${(err as Error).stack ?? err}\n`);
      process.exit(1);
    });
}

import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

/** The rule ids the repository's ESLint config reports for `code` placed at `filePath`. */
async function violations(filePath: string, code: string): Promise<string[]> {
  const [result] = await new ESLint().lintText(code, { filePath });
  return result!.messages.map((m) => m.ruleId ?? m.message);
}

describe('layer rules (eslint.config.mjs)', () => {
  it('keeps pure libs free of frameworks, I/O and I/O libs', async () => {
    expect(
      await violations(
        'libs/genome/src/x.ts',
        "import { readFileSync } from 'node:fs';\nreadFileSync('a');\n",
      ),
    ).toContain('no-restricted-imports');
    expect(
      await violations('libs/domain/src/x.ts', "export { Injectable } from '@nestjs/common';\n"),
    ).toContain('no-restricted-imports');
    expect(
      await violations(
        'libs/strategies/src/x.ts',
        "export { TrialRepository } from '@detsearch/persistence';\n",
      ),
    ).toContain('no-restricted-imports');
    expect(
      await violations('libs/domain/src/x.ts', "export { parseGenome } from '@detsearch/genome';\n"),
    ).toEqual([]);
  });

  it('keeps libs from importing apps', async () => {
    expect(
      await violations(
        'libs/orchestrator/src/x.ts',
        "export { createApp } from '../../../apps/api/src/create-app';\n",
      ),
    ).toContain('no-restricted-imports');
  });

  it('allows process.env only in libs/config', async () => {
    const read = 'export const port = process.env.PORT;\n';
    expect(await violations('libs/latency/src/x.ts', read)).toContain('no-restricted-properties');
    expect(await violations('apps/cli/src/x.ts', read)).toContain('no-restricted-properties');
    expect(await violations('libs/config/src/x.ts', read)).toEqual([]);
  });
});

import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { BIN, ROOT } from '../faults/helpers';

/** The built CLI (`npm run build`), so each case costs a process start, not a TypeScript compile. */
function cli(...args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
  const stderr = r.stderr
    .trim()
    .split('\n')
    .filter((l) => l && !l.startsWith('npm warn'));
  return { status: r.status, stdout: r.stdout, stderr };
}

describe('bad command-line input: exit 2, one line on stderr', () => {
  it.each([
    [
      ['export', '--seed', 'abc', '--genome', '{}', '--out', '/tmp/never.onnx'],
      /--seed: expected an integer/,
    ],
    [['search', '--trials', 'abc'], /--trials: expected an integer/],
    [['searches', '--bogus'], /unknown option '--bogus'/],
    [['searches', '--status', 'sleeping'], /--status: expected one of/],
    [['resume', 'not-an-id'], /ID: expected a search id/],
    [['cancel'], /missing required argument 'id'/],
  ])('%j', (args, message) => {
    const r = cli(...args);
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toHaveLength(1);
    expect(r.stderr[0]).toMatch(/^detsearch: /);
    expect(r.stderr[0]).toMatch(message);
  });
});

import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { spawnCli, startServe, timed, waitFor, type Child } from './helpers';

const stderrLines = (out: string) =>
  out
    .trim()
    .split('\n')
    .filter((l) => l && !l.startsWith('npm warn'));

describe('the CLI beside `detsearch serve` on one DETSEARCH_HOME (embedded database)', () => {
  const home = mkdtempSync(join(tmpdir(), 'detsearch-beside-'));
  const env = { DATABASE_URL: '', DETSEARCH_HOME: home, DETSEARCH_SURROGATE_MS: '200' };
  const children: Child[] = [];
  const cli = (args: string[], extra: Record<string, string> = {}) => {
    const c = spawnCli(args, { ...env, ...extra });
    children.push(c);
    return c;
  };
  afterAll(async () => {
    for (const c of children)
      if (c.child.exitCode === null && c.child.signalCode === null) c.child.kill('SIGKILL');
    await Promise.all(children.map((c) => c.exited));
    rmSync(home, { recursive: true, force: true });
  });

  it('goes through the server, loses no search, keeps interrupted searches stopped, and the database opens afterwards', async () => {
    const server = await startServe(home, { DETSEARCH_SURROGATE_MS: '200' });
    children.push(server);

    // 1. `search` beside the server submits over HTTP and follows the search to its end.
    const search = cli([
      'search',
      '--evaluator',
      'surrogate',
      '--trials',
      '5',
      '--epochs',
      '1',
      '--json',
      '--no-progress',
      '--out',
      join(home, 'out'),
    ]);
    expect(await search.exited).toBe(0);
    expect(search.output()).toContain('submitting to the detsearch server');
    const summary = JSON.parse(
      search
        .output()
        .split('\n')
        .find((l) => l.startsWith('{'))!,
    );
    expect(summary.status).toBe('completed');
    expect(summary.trials.completed + summary.trials.pruned).toBe(5);
    const first = summary.searchId as string;
    expect(((await timed(`${server.url}/searches/${first}`)).body as { status: string }).status).toBe(
      'completed',
    );

    // 2. Ctrl-C stops the search, with the real id in the hint.
    const long = cli([
      'search',
      '--evaluator',
      'surrogate',
      '--trials',
      '500',
      '--epochs',
      '1',
      '--no-progress',
    ]);
    const second = await waitFor(
      () => /search ([0-9a-f-]{36})/.exec(long.output())?.[1],
      60_000,
      'the search id on stderr',
    );
    await waitFor(
      async () => {
        const s = (await timed(`${server.url}/searches/${second}`)).body as {
          progress?: { completed: number };
        };
        return (s.progress?.completed ?? 0) >= 1;
      },
      30_000,
      'a first trial',
    );
    long.child.kill('SIGINT');
    expect(await long.exited).toBe(130);
    expect(long.output()).toContain(`detsearch resume ${second}`);
    expect(long.output()).toContain(`/searches/${second}/resume`);
    expect(long.output()).not.toContain(':id');
    expect(((await timed(`${server.url}/searches/${second}`)).body as { status: string }).status).toBe(
      'cancelled',
    );

    // 3. A restart does not resume the interrupted search.
    server.child.kill('SIGTERM');
    await server.exited;
    const again = await startServe(home, { DETSEARCH_SURROGATE_MS: '200' });
    children.push(again);
    await new Promise((r) => setTimeout(r, 2000));
    expect(((await timed(`${again.url}/searches/${second}`)).body as { status: string }).status).toBe(
      'cancelled',
    );
    expect(again.output()).not.toContain('resuming a search');

    // 4. `searches`, `resume` and `cancel` through the server.
    const list = cli(['searches', '--json']);
    expect(await list.exited).toBe(0);
    const ids = (
      JSON.parse(
        list
          .output()
          .split('\n')
          .find((l) => l.startsWith('{'))!,
      ).searches as { id: string }[]
    ).map((s) => s.id);
    expect(ids).toEqual(expect.arrayContaining([first, second]));
    const resume = cli(['resume', second, '--detach', '--json']);
    expect(await resume.exited).toBe(0);
    expect(((await timed(`${again.url}/searches/${second}`)).body as { status: string }).status).toBe(
      'running',
    );
    const cancel = cli(['cancel', second.toUpperCase(), '--json']);
    expect(await cancel.exited).toBe(0);
    expect(((await timed(`${again.url}/searches/${second}`)).body as { status: string }).status).toBe(
      'cancelled',
    );

    // 5. With the server gone, the CLI opens the database itself: both searches are there.
    again.child.kill('SIGTERM');
    await again.exited;
    expect(existsSync(join(home, 'detsearch.lock'))).toBe(false);
    const local = cli(['searches', '--json']);
    expect(await local.exited).toBe(0);
    const rows = JSON.parse(
      local
        .output()
        .split('\n')
        .find((l) => l.startsWith('{'))!,
    ).searches as {
      id: string;
      status: string;
    }[];
    expect(rows.find((s) => s.id === first)?.status).toBe('completed');
    expect(rows.find((s) => s.id === second)?.status).toBe('cancelled');

    // 6. A lock left by a dead process is taken over; a live owner without a server is refused.
    const dead = spawn(process.execPath, ['-e', '0']);
    await new Promise((r) => dead.once('exit', r));
    writeFileSync(
      join(home, 'detsearch.lock'),
      JSON.stringify({ pid: dead.pid, command: 'search', startedAt: new Date().toISOString() }),
    );
    const owner = cli([
      'search',
      '--evaluator',
      'surrogate',
      '--trials',
      '500',
      '--epochs',
      '1',
      '--no-progress',
    ]);
    await waitFor(() => /search [0-9a-f-]{36}/.test(owner.output()), 60_000, 'the owner to start its search');
    const refused = cli(['searches']);
    expect(await refused.exited).toBe(1);
    const lines = stderrLines(refused.output());
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/in use by detsearch search \(pid \d+\)/);
    owner.child.kill('SIGINT');
    expect(await owner.exited).toBe(130);
    const last = cli(['searches', '--json']);
    expect(await last.exited).toBe(0);
    expect(
      JSON.parse(
        last
          .output()
          .split('\n')
          .find((l) => l.startsWith('{'))!,
      ).searches,
    ).toHaveLength(3);
  }, 400_000);
});

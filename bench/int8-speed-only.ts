/**
 * Only the int8 speed-up table of bench:runtime / bench:quant (a few minutes):
 *   node -r @swc-node/register bench/int8-speed-only.ts
 * Prints the table and writes bench/results/int8-speed.md.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { measureInt8Speedups, speedTable } from './int8-speed';

async function main(): Promise<void> {
  const load0 = loadavg()[0]!;
  const rows = await measureInt8Speedups({ log: (s) => process.stderr.write(`${s}\n`), runs: 20, rounds: 2 });
  const md = [
    '# int8 speed-up over fp32 (`node -r @swc-node/register bench/int8-speed-only.ts`)',
    '',
    `${new Date().toISOString()}, load average ${load0.toFixed(2)} at the start.`,
    '',
    ...speedTable(rows),
    '',
  ].join('\n');
  process.stdout.write(md);
  mkdirSync(join(__dirname, 'results'), { recursive: true });
  writeFileSync(join(__dirname, 'results', 'int8-speed.md'), md);
}

main().catch((e: unknown) => {
  process.stderr.write(`int8-speed failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});

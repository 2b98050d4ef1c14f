/**
 * Where the time of an fp32 and an int8 export goes, per kernel type, as onnxruntime's own profiler
 * records it (one intra-op thread, the optimized graph it really runs):
 *   node -r @swc-node/register bench/int8-profile.ts [model] [size]
 * Prints a markdown table (ms per inference and share of the kernel time); bench/int8-speed-only.ts
 * appends the same to its results. Float convs are split into the stem (row 0), Detect and the rest,
 * since the int8 export keeps the first two in float.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import type { Activation } from '@detsearch/genome';
import { buildOnnxModel } from '@detsearch/model-onnx';
import { benchInt8, benchModel } from './int8-speed';

interface ProfileEvent {
  cat: string;
  name: string;
  ts: number;
  dur: number;
  args?: { op_name?: string };
}

/** Kernel time per op type (ms per inference, each node's fastest run), plus the fastest whole run. */
export interface OpProfile {
  perOp: Map<string, number>;
  /** Each node's fastest run (ms), by the profiler's node name. */
  perNode: Map<string, { op: string; ms: number }>;
  kernelMs: number;
  runMs: number;
}

const STEM = /(^|[:/])model\.0\./;
const DETECT = /(^|[:/])(model\.24\.|output\d)/;

/** The profiler's name for a kernel: its op type, with float convs of the stem and Detect apart. */
function opKey(event: ProfileEvent): string {
  const op = event.args?.op_name ?? '?';
  const node = event.name.replace(/_kernel_time$/, '');
  if (op === 'Conv' || op === 'FusedConv') {
    if (STEM.test(node)) return `${op} (stem, float)`;
    if (DETECT.test(node)) return `${op} (Detect, float)`;
  }
  if (op === 'QLinearConv' && STEM.test(node)) return 'QLinearConv (stem)';
  if (op === 'QLinearConv' && DETECT.test(node)) return 'QLinearConv (Detect)';
  return op;
}

export async function profileOps(
  bytes: Uint8Array,
  options: { runs?: number; warmup?: number; threads?: number } = {},
): Promise<OpProfile> {
  const runs = options.runs ?? 30;
  const dir = mkdtempSync(join(tmpdir(), 'detsearch-profile-'));
  try {
    const session = await ort.InferenceSession.create(bytes, {
      executionProviders: ['cpu'],
      intraOpNumThreads: options.threads ?? 1,
      interOpNumThreads: 1,
      executionMode: 'sequential',
      graphOptimizationLevel: 'all',
      enableProfiling: true,
      profileFilePrefix: join(dir, 'p'),
    });
    const meta = session.inputMetadata[0]!;
    if (!meta.isTensor) throw new Error('profile: input is not a tensor');
    const shape = meta.shape.map((d) => (typeof d === 'number' ? d : 1));
    const size = shape.reduce((a, b) => a * b, 1);
    let s = 12345;
    const data = Float32Array.from(
      { length: size },
      () => (s = (s * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff,
    );
    const feeds = { [meta.name]: new ort.Tensor('float32', data, shape) };
    for (let i = 0; i < (options.warmup ?? 5); i++) await session.run(feeds);
    // Warm-up runs are in the file too: only the last `runs` model_run events and their kernels count.
    for (let i = 0; i < runs; i++) await session.run(feeds);
    session.endProfiling();
    await session.release();
    const file = readdirProfile(dir);
    const events = JSON.parse(readFileSync(file, 'utf8')) as ProfileEvent[];
    const runEvents = events.filter((e) => e.cat === 'Session' && e.name === 'model_run');
    const counted = runEvents.slice(-runs);
    const start = counted[0]!.ts;
    // Each node's fastest of the counted runs: a run preempted by another process loses that node's
    // sample, not the whole breakdown (the machine is shared); summed per op type.
    const perNode = new Map<string, { key: string; best: number }>();
    for (const e of events) {
      if (e.cat !== 'Node' || !e.name.endsWith('_kernel_time') || e.ts < start) continue;
      const hit = perNode.get(e.name);
      if (!hit) perNode.set(e.name, { key: opKey(e), best: e.dur / 1e3 });
      else hit.best = Math.min(hit.best, e.dur / 1e3);
    }
    const perOp = new Map<string, number>();
    let kernel = 0;
    for (const { key, best } of perNode.values()) {
      perOp.set(key, (perOp.get(key) ?? 0) + best);
      kernel += best;
    }
    const runMs = Math.min(...counted.map((e) => e.dur / 1e3));
    const nodes = new Map(
      [...perNode].map(([n, v]) => [n.replace(/_kernel_time$/, ''), { op: v.key, ms: v.best }]),
    );
    return { perOp, perNode: nodes, kernelMs: kernel, runMs };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function readdirProfile(dir: string): string {
  const f = readdirSync(dir).find((n) => n.endsWith('.json'));
  if (!f) throw new Error('profile: onnxruntime wrote no profile');
  return join(dir, f);
}

export async function buildPair(
  model: 'yolov5n' | 'yolov5s',
  size: number,
  activation: Activation,
): Promise<{ fp32: Uint8Array; int8: Uint8Array }> {
  const { ir, weights } = benchModel(model, size, activation);
  return {
    fp32: buildOnnxModel(ir, weights, { precision: 'fp32' }),
    int8: await benchInt8(ir, weights, size),
  };
}

/** One profile as a table (for one-off looks at a variant). */
export function profileTable(title: string, p: OpProfile): string[] {
  const rows = [...p.perOp].sort((a, b) => b[1] - a[1]);
  return [
    `**${title}**: kernels ${p.kernelMs.toFixed(2)} ms (sum of each node's fastest run); fastest whole run ${p.runMs.toFixed(2)} ms`,
    '',
    '| op | ms | share |',
    '|---|---|---|',
    ...rows.map(([op, ms]) => `| ${op} | ${ms.toFixed(3)} | ${((100 * ms) / p.kernelMs).toFixed(1)}% |`),
  ];
}

export interface Int8Breakdown {
  model: string;
  size: number;
  /** Per activation: the fp32 and int8 exports' profiles. */
  runs: { activation: Activation; fp32: OpProfile; int8: OpProfile }[];
}

export async function int8Breakdown(
  model: 'yolov5n' | 'yolov5s',
  size: number,
  options: { runs?: number } = {},
): Promise<Int8Breakdown> {
  const runs: Int8Breakdown['runs'] = [];
  for (const activation of ['silu', 'relu'] as const) {
    const pair = await buildPair(model, size, activation);
    runs.push({
      activation,
      fp32: await profileOps(pair.fp32, { runs: options.runs ?? 100 }),
      int8: await profileOps(pair.int8, { runs: options.runs ?? 100 }),
    });
  }
  return { model, size, runs };
}

const get = (p: OpProfile, ...ops: string[]) => ops.reduce((a, op) => a + (p.perOp.get(op) ?? 0), 0);

/** One table, fp32 and int8 side by side per activation, then what bounds the speed-up. */
export function breakdownMarkdown(b: Int8Breakdown): string[] {
  const cols = b.runs.flatMap((r) => [
    { title: `${r.activation} fp32`, p: r.fp32 },
    { title: `${r.activation} int8`, p: r.int8 },
  ]);
  const ops = [...new Set(cols.flatMap((c) => [...c.p.perOp.keys()]))].sort(
    (x, y) =>
      Math.max(...cols.map((c) => c.p.perOp.get(y) ?? 0)) -
      Math.max(...cols.map((c) => c.p.perOp.get(x) ?? 0)),
  );
  const cell = (p: OpProfile, op: string) => {
    const ms = p.perOp.get(op);
    return ms === undefined ? '' : `${ms.toFixed(2)} (${((100 * ms) / p.kernelMs).toFixed(0)}%)`;
  };
  const lines = [
    `${b.model}@${b.size}, one thread, ms per inference (share of the kernel total); onnxruntime's profiler, ` +
      "each node's fastest of the profiled runs (robust to other processes' load), summed per kernel type.",
    '',
    `| kernel | ${cols.map((c) => c.title).join(' | ')} |`,
    `|---|${cols.map(() => '---').join('|')}|`,
    ...ops.map((op) => `| ${op} | ${cols.map((c) => cell(c.p, op)).join(' | ')} |`),
    `| **total** | ${cols.map((c) => `**${c.p.kernelMs.toFixed(2)}**`).join(' | ')} |`,
    '',
  ];
  for (const r of b.runs) {
    const conv = get(r.fp32, 'Conv') / get(r.int8, 'QLinearConv');
    // What int8 cannot go below on this runtime while the stem and Detect stay float: its convs.
    const floor = get(r.int8, 'QLinearConv', 'Conv (stem, float)', 'Conv (Detect, float)', 'QuickGelu');
    const silu = get(r.int8, 'QLinearSigmoid', 'QLinearMul');
    const bound = (ms: number) => `${ms.toFixed(2)} ms, at most ${(r.fp32.kernelMs / ms).toFixed(2)}x`;
    lines.push(
      `- ${r.activation}: int8 ${(r.fp32.kernelMs / r.int8.kernelMs).toFixed(2)}x fp32 on kernel time. ` +
        `The convs of rows 1-23 alone: ${conv.toFixed(2)}x (Conv ${get(r.fp32, 'Conv').toFixed(2)} -> ` +
        `QLinearConv ${get(r.int8, 'QLinearConv').toFixed(2)} ms). ` +
        `With every kernel but the convs (float stem and Detect included) free, int8 would take ${bound(floor)}.` +
        (silu > 0
          ? ` SiLU as QLinearSigmoid + QLinearMul takes ${silu.toFixed(2)} ms (fp32's fused SiLU, QuickGelu, ` +
            `${get(r.fp32, 'QuickGelu').toFixed(2)} ms with the stem's); convs and SiLU alone: ${bound(floor + silu)}.`
          : ''),
    );
  }
  return lines;
}

async function main(): Promise<void> {
  const model = (process.argv[2] ?? 'yolov5n') as 'yolov5n' | 'yolov5s';
  const size = Number(process.argv[3] ?? 320);
  const load0 = loadavg()[0]!;
  const b = await int8Breakdown(model, size);
  const lines = [
    ...breakdownMarkdown(b),
    '',
    `load average ${load0.toFixed(2)} at the start, ${loadavg()[0]!.toFixed(2)} at the end`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

if (require.main === module)
  main().catch((e: unknown) => {
    process.stderr.write(`int8-profile failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(1);
  });

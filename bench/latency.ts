/**
 * Latency benchmark: calibrate the `host` profile on 20 random genomes measured with onnxruntime,
 * then predict 30 other random genomes (fp32 and int8, separable variants included) and compare with
 * their measured medians: Kendall tau >= 0.85 and >= 80% within +-15%.
 *
 *   node -r @swc-node/register bench/latency.ts [--calibrate 20] [--test 30] [--runs 10] [--passes 3]
 *        [--threads T] [--clock auto|wall|cpu] [--seed S] [--out bench/results/latency.md] [--save-profile]
 *        [--from measurements.json]   refit and report from an earlier run's measurements (no measuring)
 *
 * --clock auto (default) times by CPU time on one thread when the machine is busy (1-min load above
 * half its cores), since wall time then measures the scheduler; see libs/latency/src/cpu-time.ts.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname, resolve } from 'node:path';
import { buildIR, modelCost, parseGenome, type Genome } from '@detsearch/genome';
import {
  calibrateProfile,
  fractionWithin,
  getHardwareProfile,
  kendallTau,
  meanAbsoluteRelativeError,
  measureGenomes,
  predictLatency,
  sampleLatencyGenomes,
  saveProfile,
  type HardwareProfile,
} from '@detsearch/latency';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
}

const nCalibrate = Number(arg('calibrate', '20'));
const nTest = Number(arg('test', '30'));
const runs = Number(arg('runs', '10'));
const passes = Number(arg('passes', '3'));
const seed = arg('seed', 'bench-latency');
const out = resolve(arg('out', 'bench/results/latency.md'));

function describeGenome(g: Genome): string {
  const sep = g.separable.length ? ` sep[${g.separable.join(',')}]` : '';
  return `d${g.depthMultiple} w${g.widthMultiple} ${g.imageSize}px ${g.quantization.precision} ${g.activation}${sep}`;
}

function scores(profile: HardwareProfile, genomes: Genome[], measured: number[]) {
  const predicted = genomes.map((g) => predictLatency(g, profile).predictedMs);
  return {
    predicted,
    tau: kendallTau(predicted, measured),
    within15: fractionWithin(predicted, measured, 0.15),
    within10: fractionWithin(predicted, measured, 0.1),
    mape: meanAbsoluteRelativeError(predicted, measured),
  };
}

interface MeasuredWhen {
  at: string;
  seconds: number;
  loadStart: number;
  loadEnd: number;
}

async function main(): Promise<void> {
  const started = Date.now();
  const load0 = loadavg();
  const prior = getHardwareProfile('host', { fittedDir: null });
  const clockArg = arg('clock', 'auto');
  const clock: 'wall' | 'cpu' =
    clockArg === 'auto'
      ? load0[0]! > prior.cores / 2
        ? 'cpu'
        : 'wall'
      : clockArg === 'cpu'
        ? 'cpu'
        : 'wall';
  const threads = clock === 'cpu' ? 1 : Number(arg('threads', String(prior.threads)));
  const from = arg('from', '');
  let genomes: Genome[];
  let measured: number[];
  let how: string;
  let measuredWhen: MeasuredWhen | undefined;
  if (from) {
    const saved = JSON.parse(readFileSync(from, 'utf8')) as {
      how: string;
      measured?: MeasuredWhen;
      models: { genome: unknown; medianMs: number }[];
    };
    measuredWhen = saved.measured;
    genomes = saved.models.map((m) => parseGenome(m.genome));
    measured = saved.models.map((m) => m.medianMs);
    how = `${saved.how} (re-fitted from ${from})`;
  } else {
    // Small models and inputs keep the whole bench to a few minutes on 2 cores.
    genomes = sampleLatencyGenomes(nCalibrate + nTest, seed, {
      depthMultiples: [0.33, 0.5, 0.67],
      widthMultiples: [0.125, 0.1875, 0.25, 0.375, 0.5],
      imageSizes: [96, 128, 160, 192],
      precisions: ['fp32', 'int8'],
      activations: ['silu', 'relu'],
      separableProbability: 0.5,
    });
    process.stderr.write(
      `measuring ${genomes.length} models, ${passes} passes x ${runs} runs, ${threads} thread(s), ${clock} clock\n`,
    );
    const measurements = await measureGenomes(genomes, {
      runs,
      warmup: 2,
      threads,
      passes,
      clock,
      onProgress: (done, total, g, ms) =>
        process.stderr.write(`  [${done}/${total}] ${describeGenome(g)}: ${ms.toFixed(2)} ms\n`),
    });
    measured = measurements.map((m) => m.medianMs);
    how =
      `measured with ${clock === 'wall' ? '`measureOnnx` (wall clock' : '`measureOnnxCpuTime` (process CPU time per run, which other work on this shared machine disturbs least'}, ` +
      `${threads} intra-op thread(s), 2 warm-up + ${runs} timed runs); the value is the lowest median over ${passes} interleaved passes`;
    measuredWhen = {
      at: new Date().toISOString(),
      seconds: Math.round((Date.now() - started) / 1000),
      loadStart: load0[0]!,
      loadEnd: loadavg()[0]!,
    };
    const raw = out.replace(/\.md$/, '') + '-measurements.json';
    writeFileSync(
      raw,
      JSON.stringify(
        {
          how,
          measured: measuredWhen,
          models: measurements.map((m) => ({ genome: m.genome, medianMs: m.medianMs, p90Ms: m.p90Ms })),
        },
        null,
        1,
      ),
    );
    process.stderr.write(`wrote ${raw}\n`);
  }
  const calib = genomes.slice(0, nCalibrate);
  const test = genomes.slice(nCalibrate);
  const testMeasured = measured.slice(nCalibrate);

  const { profile: fitted, fits } = calibrateProfile(
    prior,
    calib.map((g, i) => ({ model: g, measuredMs: measured[i]! })),
    {
      notes: `bench/latency.ts, seed ${seed}: ${how}`,
    },
  );
  const before = scores(prior, test, testMeasured);
  const after = scores(fitted, test, testMeasured);
  const perPrecision = (['fp32', 'int8'] as const).map((p) => {
    const idx = test.map((g, i) => (g.quantization.precision === p ? i : -1)).filter((i) => i >= 0);
    const pr = idx.map((i) => after.predicted[i]!);
    const me = idx.map((i) => testMeasured[i]!);
    return { precision: p, n: idx.length, tau: kendallTau(pr, me), within15: fractionWithin(pr, me, 0.15) };
  });
  const load1 = loadavg();
  const pass = after.tau >= 0.85 && after.within15 >= 0.8;
  const pct = (x: number) => `${(100 * x).toFixed(0)}%`;

  const lines = [
    '# Latency predictor on `host`: calibrated roofline vs measured onnxruntime medians',
    '',
    `Generated by \`node -r @swc-node/register bench/latency.ts${from ? ` --from ${from}` : ''}\` on ${new Date().toISOString()}. ` +
      (measuredWhen
        ? `Measured ${measuredWhen.at} in ${measuredWhen.seconds} s; load average (1 min) ${measuredWhen.loadStart.toFixed(1)} ` +
          `at the start, ${measuredWhen.loadEnd.toFixed(1)} at the end, on ${prior.cores} cores` +
          `${Math.max(measuredWhen.loadStart, measuredWhen.loadEnd) > 1.5 ? ' — measured while other work ran on this machine' : ''}.`
        : `Measurements from an earlier run (its load not recorded); refit load average ${load1[0]!.toFixed(1)}.`),
    '',
    `Each model: random weights, exported with libs/model-onnx at its precision (int8: static QDQ, per-channel, ` +
      `stem and Detect kept fp32), ${how}. Genomes: seed \`${seed}\`, depth 0.33-0.67, ` +
      `width 0.125-0.5, 96-192 px, fp32/int8, SiLU/ReLU, half with random separable rows.`,
    '',
    '## Result',
    '',
    '| | Kendall tau | within ±15% | within ±10% | mean abs. error |',
    '|---|---|---|---|---|',
    `| uncalibrated \`host\` prior | ${before.tau.toFixed(3)} | ${pct(before.within15)} | ${pct(before.within10)} | ${pct(before.mape)} |`,
    `| calibrated on ${nCalibrate} genomes | **${after.tau.toFixed(3)}** | **${pct(after.within15)}** | ${pct(after.within10)} | ${pct(after.mape)} |`,
    '',
    `Target: tau >= 0.85 and >= 80% within ±15% on ${nTest} held-out genomes: **${pass ? 'met' : 'NOT met'}**.`,
    '',
    'Per precision (calibrated): ' +
      perPrecision
        .map((p) => `${p.precision} n=${p.n} tau ${p.tau.toFixed(3)}, ${pct(p.within15)} within ±15%`)
        .join('; '),
    '',
    '## Fitted parameters',
    '',
    '| precision | samples | rms log error | conv | depthwise | pointwise | elementwise | pooling | µs/op | µs/run |',
    '|---|---|---|---|---|---|---|---|---|---|',
    ...fits.map(
      (f) =>
        `| ${f.precision} | ${f.samples} | ${f.rmsLogError.toFixed(3)} | ${[
          f.efficiency.conv,
          f.efficiency.depthwise,
          f.efficiency.pointwise,
          f.efficiency.elementwise,
          f.efficiency.pooling,
        ]
          .map((v) => v.toFixed(3))
          .join(' | ')} | ${f.overheadUs.perOpUs.toFixed(1)} | ${f.overheadUs.perInferenceUs.toFixed(0)} |`,
    ),
    '',
    `## Held-out genomes`,
    '',
    '| # | genome | GFLOPs | measured ms | predicted ms | error | bound |',
    '|---|---|---|---|---|---|---|',
    ...test.map((g, i) => {
      const p = predictLatency(g, fitted);
      return `| ${i + 1} | ${describeGenome(g)} | ${modelCost(buildIR(g)).gflops.toFixed(3)} | ${testMeasured[i]!.toFixed(2)} | ${p.predictedMs.toFixed(2)} | ${(100 * (p.predictedMs / testMeasured[i]! - 1)).toFixed(1)}% | ${p.bound} |`;
    }),
    '',
  ];
  const md = lines.join('\n');
  process.stdout.write(md);
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, md);
  process.stderr.write(`wrote ${out}\n`);
  if (process.argv.includes('--save-profile')) process.stderr.write(`saved ${saveProfile(fitted)}\n`);
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack ?? err}\n`);
  process.exit(1);
});

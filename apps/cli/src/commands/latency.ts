import { existsSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { PRECISIONS, type Precision } from '@detsearch/genome';
import {
  calibrateByMeasuring,
  calibrateHost,
  calibrateProfile,
  type CalibrationResult,
  getHardwareProfile,
  hostCpu,
  measuredProvenance,
  measureOnnx,
  parseHardwareProfile,
  predictedProvenance,
  predictLatency,
  sampleLatencyGenomes,
  HOST_CALIBRATION_DEFAULTS,
  saveProfile,
} from '@detsearch/latency';
import { action, cliConfig, formatTable, parseIntOption, readJsonOrFile, UsageError } from '../cli-kit';

interface LatencyOptions {
  onnx?: string;
  runs?: number;
  warmup?: number;
  threads?: number;
  genome?: string;
  profile?: string;
  precision?: string;
  perOp?: boolean;
  json?: boolean;
}

interface CalibrateOptions {
  profile: string;
  genomes?: number;
  runs?: number;
  threads?: number;
  clock: string;
  seed: string;
  measurements?: string;
  out?: string;
  json?: boolean;
}

const round = (x: number, digits = 3) => Math.round(x * 10 ** digits) / 10 ** digits;

export function registerLatency(program: Command): void {
  program
    .command('latency')
    .description(
      'measure an ONNX model on this machine with onnxruntime (--onnx), or predict a genome on a hardware profile (--genome --profile)',
    )
    .option('--onnx <file>', 'ONNX model to measure here')
    .option('--runs <n>', 'timed runs (with --onnx)', parseIntOption('runs', 1, 100_000))
    .option('--warmup <n>', 'untimed warm-up runs (with --onnx)', parseIntOption('warmup', 0, 10_000))
    .option(
      '--threads <n>',
      'onnxruntime intra-op threads (with --onnx; default 1, as searches measure trials)',
      parseIntOption('threads', 1, 1024),
    )
    .option('--genome <file|json>', 'genome as inline JSON or a JSON/YAML file')
    .option(
      '--profile <name>',
      'hardware profile (search-spaces/hardware, or a fitted one in $DETSEARCH_HOME/profiles)',
    )
    .option('--precision <p>', `override the genome's precision: ${PRECISIONS.join(', ')}`)
    .option('--per-op', 'include every operator in the output')
    .option('--json', 'one JSON object on stdout')
    .action(
      action<LatencyOptions>(async (o) => {
        if (!o.onnx === !o.genome) throw new UsageError('latency: give exactly one of --onnx or --genome');
        if (o.onnx) {
          if (o.profile || o.precision || o.perOp)
            throw new UsageError('latency: --profile, --precision and --per-op go with --genome, not --onnx');
          if (!existsSync(o.onnx)) throw new UsageError(`--onnx: no such file '${o.onnx}'`);
          const m = await measureOnnx(o.onnx, { runs: o.runs, warmup: o.warmup, threads: o.threads ?? 1 });
          const json = {
            medianMs: round(m.medianMs),
            p90Ms: round(m.p90Ms),
            meanMs: round(m.meanMs),
            minMs: round(m.minMs),
            runs: m.runs,
            threads: m.threads,
            latencySource: 'measured',
            latencyProvenance: measuredProvenance({
              where: `this host (${hostCpu().model})`,
              threads: m.threads,
              runs: m.runs,
            }),
          };
          const text = `${o.onnx}: median ${json.medianMs} ms, p90 ${json.p90Ms} ms (${json.latencyProvenance})`;
          return { json, text };
        }
        if (!o.profile) throw new UsageError('latency: --genome needs --profile <name>');
        if (o.runs !== undefined || o.warmup !== undefined || o.threads !== undefined)
          throw new UsageError('latency: --runs, --warmup and --threads go with --onnx, not --genome');
        if (o.precision !== undefined && !PRECISIONS.includes(o.precision as Precision))
          throw new UsageError(`--precision: expected one of ${PRECISIONS.join(', ')}, got '${o.precision}'`);
        const profile = getHardwareProfile(o.profile);
        const p = predictLatency(readJsonOrFile(o.genome!, 'genome'), profile, {
          precision: o.precision as Precision | undefined,
          perOp: o.perOp,
        });
        const json = {
          profile: p.profile,
          precision: p.precision,
          predictedMs: round(p.predictedMs),
          bound: p.bound,
          computeBoundMs: round(p.computeBoundMs),
          memoryBoundMs: round(p.memoryBoundMs),
          overheadMs: round(p.overheadMs),
          ops: p.ops,
          calibrated: profile.calibration !== undefined,
          latencySource: 'predicted',
          latencyProvenance: predictedProvenance(profile),
          ...(p.perOp
            ? {
                perOp: p.perOp.map((r) => ({
                  name: r.name,
                  class: r.opClass,
                  bound: r.bound,
                  flops: r.flops,
                  bytes: r.bytes,
                  ms: round(r.ms, 4),
                })),
              }
            : {}),
        };
        let text = `${p.profile} (${p.precision}${json.calibrated ? ', calibrated' : ''}): ${json.predictedMs} ms predicted, ${p.bound}-bound (compute ${json.computeBoundMs} ms, memory ${json.memoryBoundMs} ms, overhead ${json.overheadMs} ms over ${p.ops} ops); ${json.latencyProvenance}`;
        if (p.perOp)
          text =
            formatTable(
              ['op', 'class', 'bound', 'MFLOPs', 'KB', 'ms'],
              p.perOp.map((r) => [
                r.name,
                r.opClass,
                r.bound,
                (r.flops / 1e6).toFixed(2),
                (r.bytes / 1e3).toFixed(1),
                r.ms.toFixed(4),
              ]),
            ) + `\n${text}`;
        return { json, text };
      }),
    );

  program
    .command('calibrate')
    .description(
      'fit a hardware profile to this machine: export random genomes, measure them with onnxruntime, fit efficiencies and overheads, save to $DETSEARCH_HOME/profiles',
    )
    .option('--profile <name>', 'profile to fit (its peaks and bandwidth are kept)', 'host')
    .option(
      '--genomes <n>',
      `random genomes to measure (default ${HOST_CALIBRATION_DEFAULTS.genomes})`,
      parseIntOption('genomes', 2, 1000),
    )
    .option(
      '--runs <n>',
      `timed runs per model and pass (default ${HOST_CALIBRATION_DEFAULTS.runs})`,
      parseIntOption('runs', 1, 10_000),
    )
    .option(
      '--threads <n>',
      "onnxruntime intra-op threads (default: the profile's)",
      parseIntOption('threads', 1, 1024),
    )
    .option(
      '--clock <auto|wall|cpu>',
      'wall time, or CPU time on one thread (for a machine busy with other work); auto: cpu when the load is above half the cores',
      'auto',
    )
    .option('--seed <s>', 'seed of the random genomes', 'calibrate')
    .option(
      '--measurements <file|json>',
      'fit to latencies measured elsewhere (e.g. `detsearch latency --onnx` on the device): [{"genome": G, "medianMs": ms}]; nothing is measured here',
    )
    .option(
      '--out <file>',
      'where to write the fitted profile (default $DETSEARCH_HOME/profiles/<name>.yaml)',
    )
    .option('--json', 'one JSON object on stdout')
    .action(
      action<CalibrateOptions>(async (o) => {
        if (o.clock !== 'wall' && o.clock !== 'cpu' && o.clock !== 'auto')
          throw new UsageError(`--clock: expected auto, wall or cpu, got '${o.clock}'`);
        if (o.clock === 'cpu' && o.threads !== undefined && o.threads !== 1)
          throw new UsageError('--clock cpu measures one intra-op thread; drop --threads');
        // Start from the built-in profile so a re-calibration does not compound an earlier fit.
        const profile = getHardwareProfile(o.profile, { fittedDir: null });
        if (o.profile === 'host' && !o.measurements && !o.out && o.threads === undefined)
          return hostCalibration(o);
        const clock = o.clock === 'auto' ? (loadavg()[0]! > cpus().length / 2 ? 'cpu' : 'wall') : o.clock;
        const threads = clock === 'cpu' ? 1 : (o.threads ?? profile.threads);
        let result: CalibrationResult;
        let samples: number;
        if (o.measurements) {
          // Until the queue-based `worker --measure-only` exists, device numbers arrive this way.
          const rows = readJsonOrFile(o.measurements, 'measurements');
          if (!Array.isArray(rows) || rows.length === 0)
            throw new UsageError('--measurements: expected a non-empty array of {genome, medianMs}');
          result = calibrateProfile(
            profile,
            rows.map((r: { genome?: unknown; medianMs?: unknown }, i) => {
              if (typeof r?.medianMs !== 'number')
                throw new UsageError(`--measurements: [${i}].medianMs must be a number`);
              return { model: r.genome, measuredMs: r.medianMs };
            }),
            {
              notes: `${rows.length} measurements from ${o.measurements.trim().startsWith('[') ? 'the command line' : o.measurements}`,
            },
          );
          // Numbers measured on the device the profile describes: predictions say so.
          result = {
            ...result,
            profile: parseHardwareProfile(
              { ...result.profile, calibration: { ...result.profile.calibration!, basis: 'device' } },
              `calibrated profile '${o.profile}'`,
            ),
          };
          samples = rows.length;
        } else {
          const genomes = sampleLatencyGenomes(o.genomes ?? HOST_CALIBRATION_DEFAULTS.genomes, o.seed, {
            precisions: profile.precisions.filter((p) => p !== 'fp16'),
            balanced: true,
          });
          samples = genomes.length;
          result = await calibrateByMeasuring(profile, genomes, {
            runs: o.runs ?? HOST_CALIBRATION_DEFAULTS.runs,
            warmup: HOST_CALIBRATION_DEFAULTS.warmup,
            threads,
            clock,
            passes: HOST_CALIBRATION_DEFAULTS.passes,
            onProgress: o.json
              ? undefined
              : (done, total, g, ms) =>
                  process.stderr.write(
                    `  [${done}/${total}] d${g.depthMultiple} w${g.widthMultiple} ${g.imageSize}px ${g.quantization.precision}: ${ms.toFixed(2)} ms\n`,
                  ),
          });
        }
        const path = saveProfile(result.profile, o.out);
        const json = {
          profile: result.profile.name,
          path,
          samples,
          ...(o.measurements ? {} : { threads, clock }),
          fits: result.fits.map((f) => ({
            precision: f.precision,
            samples: f.samples,
            rmsLogError: round(f.rmsLogError, 4),
            efficiency: Object.fromEntries(Object.entries(f.efficiency).map(([k, v]) => [k, round(v, 4)])),
            overheadUs: {
              perOpUs: round(f.overheadUs.perOpUs, 2),
              perInferenceUs: round(f.overheadUs.perInferenceUs, 1),
            },
          })),
        };
        const text = `fitted ${json.profile} on ${samples} genomes -> ${path}\n${formatTable(
          ['precision', 'n', 'rms log err', 'conv', 'dw', 'pw', 'elem', 'pool', 'us/op', 'us/run'],
          json.fits.map((f) => [
            f.precision,
            f.samples,
            f.rmsLogError,
            f.efficiency.conv!,
            f.efficiency.depthwise!,
            f.efficiency.pointwise!,
            f.efficiency.elementwise!,
            f.efficiency.pooling!,
            f.overheadUs.perOpUs,
            f.overheadUs.perInferenceUs,
          ]),
        )}`;
        return { json, text };
      }),
    );
}

/**
 * `detsearch calibrate` for the host: measures genomes here and stores the fit under
 * $DETSEARCH_HOME/profiles/host.yaml keyed by this CPU (model name and ISA flags), which every
 * later prediction on this machine uses; on another CPU the file is ignored and redone.
 */
async function hostCalibration(o: CalibrateOptions): Promise<{ json: unknown; text: string }> {
  const home = resolve(cliConfig().DETSEARCH_HOME);
  const r = await calibrateHost({
    home,
    genomes: o.genomes,
    runs: o.runs,
    clock: o.clock as 'auto' | 'wall' | 'cpu',
    seed: o.seed === 'calibrate' ? undefined : o.seed,
    onProgress: o.json
      ? undefined
      : (done, total, g, ms) =>
          process.stderr.write(
            `  [${done}/${total}] d${g.depthMultiple} w${g.widthMultiple} ${g.imageSize}px ${g.quantization.precision}: ${ms.toFixed(2)} ms\n`,
          ),
  });
  const fit = r.profile.byPrecision;
  const json = {
    profile: 'host',
    path: r.path,
    cpu: { model: r.cpu.model, flags: r.cpu.flags, key: r.cpu.key },
    samples: r.measurements.length,
    threads: r.threads,
    clock: r.clock,
    seconds: round(r.seconds, 1),
    load: round(r.load, 2),
    fitKendallTau: round(r.fitTau, 3),
    rmsLogError: r.profile.calibration?.rmsLogError,
    byPrecision: fit,
  };
  const text =
    `calibrated host on ${r.cpu.model} (key ${r.cpu.key}) from ${r.measurements.length} genomes in ${r.seconds.toFixed(0)} s ` +
    `(${r.clock} clock, ${r.threads} thread(s), load ${r.load.toFixed(1)}) -> ${r.path}\n` +
    `rms log error ${Object.entries(r.profile.calibration?.rmsLogError ?? {})
      .map(([p, v]) => `${p} ${v.toFixed(3)}`)
      .join(', ')}; Kendall tau on its own genomes ${r.fitTau.toFixed(3)}`;
  return { json, text };
}

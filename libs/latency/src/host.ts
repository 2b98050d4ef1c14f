import { existsSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import type { Genome } from '@detsearch/genome';
import { kendallTau } from './accuracy';
import { calibrateProfile } from './calibrate';
import { getHardwareProfile, loadHardwareProfileFile, saveProfile } from './files';
import { hostCpu, type HostCpu } from './host-cpu';
import { measureGenomes, type GenomeMeasurement } from './measure-genomes';
import { predictLatency } from './predict';
import { parseHardwareProfile, type HardwareProfile } from './profile';
import { sampleLatencyGenomes } from './sampling';

/**
 * Output channels onnxruntime's CPU convolutions work on at a time: MLAS's NCHWc kernels block
 * channels by the vector width, 16 fp32 lanes with AVX-512F and 8 with AVX2 (4 otherwise). A conv
 * with 12 or 24 output channels pays for the next block, which a FLOP count does not see.
 */
export function hostChannelTile(cpu: HostCpu): number {
  return cpu.flags.includes('avx512f') ? 16 : cpu.flags.includes('avx2') ? 8 : 4;
}

/** The built-in host profile with this CPU's channel tile: what a self-calibration starts from. */
export function hostPriorProfile(cpu: HostCpu = hostCpu()): HardwareProfile {
  return parseHardwareProfile(
    { ...getHardwareProfile('host', { fittedDir: null }), channelTile: hostChannelTile(cpu) },
    'host profile',
  );
}

/** Where the self-calibrated host profile lives: <home>/profiles/host.yaml. */
export function hostProfilePath(home: string): string {
  return join(home, 'profiles', 'host.yaml');
}

/**
 * The fitted host profile under `home`, when it was fitted on this CPU (same model name and flags);
 * null when there is none or it belongs to another machine.
 */
export function loadHostProfile(home: string, cpu: HostCpu = hostCpu()): HardwareProfile | null {
  const path = hostProfilePath(home);
  if (!existsSync(path)) return null;
  const profile = loadHardwareProfileFile(path);
  return profile.calibration?.hostKey === cpu.key ? profile : null;
}

/**
 * First-use calibration size: 48 genomes (balanced over precision x activation, so each precision's
 * seven parameters see 24 samples) x 3 interleaved passes x 10 runs, about 40 s on one Zen 4 core,
 * within the 90 s budget (20 genomes x 2 passes x 8 runs took 10 s but fitted each precision on ~10).
 */
export const HOST_CALIBRATION_DEFAULTS = { genomes: 48, runs: 10, passes: 3, warmup: 3 } as const;

export interface HostCalibrationOptions {
  /** DETSEARCH_HOME: the fitted profile is written to <home>/profiles/host.yaml. */
  home: string;
  /** Genomes to measure (default HOST_CALIBRATION_DEFAULTS.genomes). */
  genomes?: number;
  /** Timed runs per model and pass (default HOST_CALIBRATION_DEFAULTS.runs). */
  runs?: number;
  /** Interleaved passes, the lowest median kept (default HOST_CALIBRATION_DEFAULTS.passes). */
  passes?: number;
  /**
   * 'auto' (default): wall clock on a quiet machine, CPU time of one thread when the 1-minute load
   * is above half the cores (wall time then measures the scheduler, see cpu-time.ts).
   */
  clock?: 'auto' | 'wall' | 'cpu';
  seed?: string;
  cpu?: HostCpu;
  onProgress?: (done: number, total: number, genome: Genome, medianMs: number) => void;
  /** Timestamp stored on the profile (a parameter so tests can fix it). */
  fittedAt?: string;
}

export interface HostCalibration {
  profile: HardwareProfile;
  path: string;
  cpu: HostCpu;
  measurements: GenomeMeasurement[];
  clock: 'wall' | 'cpu';
  threads: number;
  seconds: number;
  load: number;
  /** Kendall tau of the fitted profile on its own genomes (a sanity check, not a held-out score). */
  fitTau: number;
}

/**
 * Measures a small set of random genomes here with onnxruntime (the host profile's thread count),
 * fits the host profile's efficiencies and overheads to them, and stores it under `home` keyed by
 * this CPU. Starts from the built-in profile, so a redo does not compound an earlier fit.
 */
export async function calibrateHost(options: HostCalibrationOptions): Promise<HostCalibration> {
  const started = Date.now();
  const cpu = options.cpu ?? hostCpu();
  const prior = hostPriorProfile(cpu);
  const load = loadavg()[0]!;
  const clock =
    (options.clock ?? 'auto') === 'auto'
      ? load > cpu.cores / 2
        ? 'cpu'
        : 'wall'
      : (options.clock as 'wall' | 'cpu');
  const threads = clock === 'cpu' ? 1 : prior.threads;
  const runs = options.runs ?? HOST_CALIBRATION_DEFAULTS.runs;
  const passes = options.passes ?? HOST_CALIBRATION_DEFAULTS.passes;
  const genomes = sampleLatencyGenomes(
    options.genomes ?? HOST_CALIBRATION_DEFAULTS.genomes,
    options.seed ?? `host-${cpu.key}`,
    { imageSizes: [96, 128, 160, 192], balanced: true },
  );
  const measurements = await measureGenomes(genomes, {
    runs,
    warmup: HOST_CALIBRATION_DEFAULTS.warmup,
    threads,
    passes,
    clock,
    onProgress: options.onProgress,
  });
  const fittedAt = options.fittedAt ?? new Date().toISOString();
  const { profile: fitted } = calibrateProfile(
    prior,
    measurements.map((m) => ({ model: m.genome, measuredMs: m.medianMs })),
    { fittedAt },
  );
  const seconds = (Date.now() - started) / 1000;
  const profile = parseHardwareProfile(
    {
      ...fitted,
      description: `This machine (${cpu.model}), onnxruntime CPU, ${threads} intra-op thread(s), self-calibrated`,
      device: `${cpu.model}, ${cpu.cores} logical CPUs, ISA ${cpu.flags.join(' ') || '(no listed extensions)'}`,
      calibration: {
        ...fitted.calibration!,
        basis: 'host',
        hostKey: cpu.key,
        notes:
          `${genomes.length} random genomes measured here with onnxruntime on ${fittedAt.slice(0, 10)} ` +
          `(${clock} clock, ${threads} thread(s), lowest median of ${passes} x ${runs} runs; ` +
          `load ${load.toFixed(1)}, ${seconds.toFixed(0)} s)`,
      },
    },
    'self-calibrated host profile',
  );
  const path = saveProfile(profile, hostProfilePath(options.home));
  const fitTau = kendallTau(
    measurements.map((m) => predictLatency(m.genome, profile).predictedMs),
    measurements.map((m) => m.medianMs),
  );
  return { profile, path, cpu, measurements, clock, threads, seconds, load, fitTau };
}

/**
 * The host profile for this CPU: the stored fit when this CPU has one, else a new self-calibration
 * (about a minute) that is stored for next time. `calibrated` says which happened.
 */
export async function ensureHostProfile(
  options: HostCalibrationOptions,
): Promise<{ profile: HardwareProfile; calibrated: HostCalibration | null }> {
  const existing = loadHostProfile(options.home, options.cpu);
  if (existing) return { profile: existing, calibrated: null };
  const calibrated = await calibrateHost(options);
  return { profile: calibrated.profile, calibrated };
}

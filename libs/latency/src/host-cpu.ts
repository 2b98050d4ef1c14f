import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { cpus } from 'node:os';

/**
 * ISA extensions that change which onnxruntime (MLAS) kernels run: a CPU that differs in these runs
 * other GEMM code, so its calibration is its own even under the same model name.
 */
const RELEVANT_FLAGS = [
  'sse4_2',
  'avx',
  'avx2',
  'fma',
  'f16c',
  'avx512f',
  'avx512bw',
  'avx512vl',
  'avx512_vnni',
  'avx512_bf16',
  'avx512_fp16',
  'avx_vnni',
  'amx_tile',
  'amx_int8',
  'amx_bf16',
  // aarch64 (/proc/cpuinfo "Features")
  'asimd',
  'asimdhp',
  'asimddp',
  'fphp',
  'i8mm',
  'bf16',
  'sve',
] as const;

export interface HostCpu {
  /** CPU model name (os.cpus() or /proc/cpuinfo). */
  model: string;
  /** The RELEVANT_FLAGS this CPU has, in that order. */
  flags: string[];
  /** Logical CPUs. */
  cores: number;
  /** What a fitted host profile is stored under: model name and flags (hashed, short). */
  key: string;
}

let thisCpu: HostCpu | undefined;

/** Identifies this machine's CPU from /proc/cpuinfo (Linux) or os.cpus(); `cpuinfo` for tests. */
export function hostCpu(cpuinfo?: string): HostCpu {
  // The CPU does not change under a running process: read /proc/cpuinfo once.
  if (cpuinfo === undefined) return (thisCpu ??= identify());
  return identify(cpuinfo);
}

function identify(cpuinfo?: string): HostCpu {
  let text = cpuinfo;
  if (text === undefined && existsSync('/proc/cpuinfo')) text = readFileSync('/proc/cpuinfo', 'utf8');
  const field = (name: string) =>
    text
      ?.split('\n')
      .find((l) => l.toLowerCase().startsWith(name))
      ?.split(':')
      .slice(1)
      .join(':')
      .trim();
  const model = field('model name') || cpus()[0]?.model?.trim() || 'unknown CPU';
  const present = new Set((field('flags') ?? field('features') ?? '').split(/\s+/).filter(Boolean));
  const flags = RELEVANT_FLAGS.filter((f) => present.has(f));
  const cores = cpuinfo === undefined ? cpus().length : (text?.match(/^processor\s*:/gm)?.length ?? 1);
  const key = `${model} [${flags.join(' ')}]`;
  return { model, flags, cores, key: createHash('sha256').update(key).digest('hex').slice(0, 16) };
}

import { register } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { DomainError } from '@detsearch/common';
import { registerWasmGradientKernels } from './wasm-gradients';

export const BACKEND_NAMES = ['tensorflow-gpu', 'tensorflow', 'wasm', 'cpu'] as const;
export type BackendName = (typeof BACKEND_NAMES)[number];
export type BackendPreference = 'auto' | BackendName;

export interface BackendInfo {
  /** Our name for the engine (what DETSEARCH_BACKEND takes and trials store). */
  name: BackendName;
  /** The tfjs backend name as `tf.getBackend()` reports it ('tensorflow' for both native builds). */
  tfBackend: string;
  /** One line for logs and trial records, e.g. 'wasm (SIMD, 1 thread)'. */
  description: string;
}

export interface InitBackendOptions {
  /** Receives the one line that says which backend was chosen (default: stderr). */
  log?: (line: string) => void;
}

let current: BackendInfo | undefined;

/** Optional and heavy packages load only when chosen, and their absence must be catchable. */
function lazyRequire<T = unknown>(id: string): T {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require(id) as T;
}

/** The backend `initBackend` chose, or undefined before it ran. */
export function currentBackend(): BackendInfo | undefined {
  return current;
}

/*
 * tfjs-core's CommonJS build registers no gradients (only the @tensorflow/tfjs bundle does), and its
 * ESM build uses extensionless imports Node cannot resolve. A resolve hook that appends '.js' inside
 * tfjs-core/dist lets Node load the installed tfjs-core's own `register_all_gradients` module. The
 * registry is global (shared by every tfjs-core copy in the process), so the ops we import use them.
 */
const RESOLVE_HOOK = `
export async function resolve(specifier, context, next) {
  if (context.parentURL && context.parentURL.includes('/@tensorflow/tfjs-core/dist/') &&
      specifier.startsWith('.') && !specifier.endsWith('.js')) {
    try { return await next(specifier + '.js', context); } catch { return next(specifier + '/index.js', context); }
  }
  return next(specifier, context);
}`;

/**
 * A real dynamic import: under CommonJS tsc turns `import()` into `require()`, which cannot load ESM
 * here. Inside vitest's vm-evaluated modules a Function has no import callback; there the literal
 * `import()` survives (vitest compiles to ESM) and vitest hands node_modules to Node's own loader.
 */
async function nativeImport(url: string): Promise<unknown> {
  try {
    return await (new Function('url', 'return import(url)') as (u: string) => Promise<unknown>)(url);
  } catch (e) {
    if (!String(e).includes('dynamic import callback')) throw e;
    return import(url);
  }
}
let gradientsLoading: Promise<void> | undefined;

/** Makes sure every tfjs gradient is registered. Idempotent; `initBackend` calls it. */
export function ensureGradients(): Promise<void> {
  if (tf.getGradient('Conv2D') && tf.getGradient('Sigmoid')) return Promise.resolve();
  gradientsLoading ??= (async () => {
    try {
      lazyRequire('@tensorflow/tfjs'); // registers them when the union package is installed
    } catch {
      // not installed: load tfjs-core's own gradient modules below
    }
    if (tf.getGradient('Conv2D')) return;
    register('data:text/javascript,' + encodeURIComponent(RESOLVE_HOOK));
    const file = require.resolve('@tensorflow/tfjs-core/dist/register_all_gradients.js');
    await nativeImport(pathToFileURL(file).href);
    if (!tf.getGradient('Conv2D')) throw new Error('tfjs gradients could not be registered');
  })();
  return gradientsLoading;
}

interface Candidate {
  name: BackendName;
  /** Loads and activates the backend; throws with the reason when it is unavailable. */
  activate(): Promise<{ tfBackend: string; description: string }>;
}

async function activateNative(
  pkg: string,
  gpu: boolean,
): Promise<{ tfBackend: string; description: string }> {
  // The native packages bring their own tfjs-core copy; the engine and kernel registry live on the
  // global object, so the backend they register is visible to the tfjs-core this module imports.
  const native = lazyRequire<{ version?: Record<string, string> }>(pkg);
  if (!tf.findBackendFactory('tensorflow'))
    throw new Error(`${pkg} loaded but registered no 'tensorflow' backend`);
  if (!(await tf.setBackend('tensorflow')))
    throw new Error(`${pkg}: the 'tensorflow' backend failed to start`);
  const version = native.version?.['tfjs-node'] ?? native.version?.['tfjs-core'] ?? '';
  return {
    tfBackend: 'tensorflow',
    description: `${pkg}${version ? ' ' + version : ''}${gpu ? ' (GPU)' : ''}`,
  };
}

const CANDIDATES: Candidate[] = [
  { name: 'tensorflow-gpu', activate: () => activateNative('@tensorflow/tfjs-node-gpu', true) },
  { name: 'tensorflow', activate: () => activateNative('@tensorflow/tfjs-node', false) },
  {
    name: 'wasm',
    async activate() {
      const wasm = lazyRequire<typeof import('@tensorflow/tfjs-backend-wasm')>(
        '@tensorflow/tfjs-backend-wasm',
      );
      const dist = join(dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist') + '/';
      // Only takes effect before the wasm backend first starts.
      if (!tf.findBackend('wasm')) wasm.setWasmPaths(dist);
      registerWasmGradientKernels();
      if (!(await tf.setBackend('wasm'))) throw new Error('the wasm backend failed to start');
      const simd = tf.env().getBool('WASM_HAS_SIMD_SUPPORT');
      return { tfBackend: 'wasm', description: `wasm (${simd ? 'SIMD' : 'no SIMD'}, 1 thread)` };
    },
  },
  {
    name: 'cpu',
    async activate() {
      lazyRequire('@tensorflow/tfjs-backend-cpu');
      if (!(await tf.setBackend('cpu'))) throw new Error('the cpu backend failed to start');
      return { tfBackend: 'cpu', description: 'cpu (JavaScript kernels)' };
    },
  },
];

function firstLine(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).split('\n')[0]!;
}

/**
 * Chooses and starts the TensorFlow.js backend: 'auto' tries tfjs-node-gpu, tfjs-node, wasm, cpu in
 * that order; an explicit choice that cannot start is an error. Also registers the gradients and, on
 * wasm, the gradient kernels wasm lacks. Logs the choice once.
 */
export async function initBackend(
  preferred: string = 'auto',
  options: InitBackendOptions = {},
): Promise<BackendInfo> {
  const wanted = (preferred.trim() || 'auto') as BackendPreference;
  if (wanted !== 'auto' && !BACKEND_NAMES.includes(wanted as BackendName)) {
    throw new DomainError(
      'BACKEND.UNKNOWN',
      `unknown backend '${preferred}': expected auto, ${BACKEND_NAMES.join(', ')}`,
      'DETSEARCH_BACKEND',
    );
  }
  await ensureGradients();
  if (current && (wanted === 'auto' || wanted === current.name) && tf.getBackend() === current.tfBackend)
    return current;
  const tried: string[] = [];
  for (const candidate of CANDIDATES) {
    if (wanted !== 'auto' && candidate.name !== wanted) continue;
    try {
      const { tfBackend, description } = await candidate.activate();
      current = { name: candidate.name, tfBackend, description };
      (options.log ?? ((line) => process.stderr.write(line + '\n')))(
        `detsearch: TensorFlow.js backend ${description}` +
          (tried.length ? ` (unavailable: ${tried.join('; ')})` : ''),
      );
      return current;
    } catch (e) {
      if (wanted !== 'auto') {
        throw new DomainError(
          'BACKEND.UNAVAILABLE',
          `backend '${wanted}' is not available here: ${firstLine(e)}`,
          'DETSEARCH_BACKEND',
        );
      }
      tried.push(`${candidate.name}: ${firstLine(e)}`);
    }
  }
  throw new DomainError('BACKEND.UNAVAILABLE', `no TensorFlow.js backend could start (${tried.join('; ')})`);
}

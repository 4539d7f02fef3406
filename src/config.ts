/**
 * Settings, kept as tfjs environment flags so users set them the tfjs way:
 * `tf.env().set('IM2COL_WORKSPACE_BYTES', 16 * 2 ** 20)`.
 *
 * Every value of every flag either works or is refused with an Error that names the flag
 * and shows the value: tf.env().set stores whatever it is given, so a typo must not turn
 * into silently wrong results.
 */
import {env} from '@tensorflow/tfjs-core';
import {describe} from './geometry/checks';
import {registerOnce} from './state';

/** A flag value as an error message shows it: as arguments are shown, with its type. */
function describeFlagValue(value: unknown): string {
  return value === null ? 'null' : `${describe(value)} (${typeof value})`;
}

/**
 * Upper bound, in bytes, of the im2col patch-matrix workspace of one kernel call: a positive
 * whole number, or Infinity for no bound (tiles are then as large as the GEMM prefers, or
 * one image, never the whole batch's patch matrix at once on the cpu).
 */
export const WORKSPACE_BYTES_FLAG = 'IM2COL_WORKSPACE_BYTES';

/** The workspace bound in bytes; throws where the flag holds anything but a valid bound. */
export function workspaceBytes(): number {
  const bytes: unknown = env().get(WORKSPACE_BYTES_FLAG);
  const valid = typeof bytes === 'number' &&
      (bytes === Infinity || (Number.isInteger(bytes) && bytes > 0));
  if (!valid) {
    throw new Error(`${WORKSPACE_BYTES_FLAG} must be a positive whole number of bytes (or ` +
        `Infinity for no bound), but is ${describeFlagValue(bytes)}.`);
  }
  return bytes as number;
}

/**
 * Which GEMM the CPU kernels use: 'wasm' (WebAssembly SIMD), 'typescript', or 'auto' (wasm
 * where the engine can run the module, else typescript with one console warning).
 */
export const CPU_GEMM_FLAG = 'IM2COL_CPU_GEMM';

export type CpuGemmChoice = 'auto' | 'wasm' | 'typescript';

export function cpuGemmChoice(): CpuGemmChoice {
  const choice: unknown = env().get(CPU_GEMM_FLAG);
  if (choice !== 'auto' && choice !== 'wasm' && choice !== 'typescript') {
    throw new Error(`${CPU_GEMM_FLAG} must be 'auto', 'wasm' or 'typescript', but is ` +
        `${describeFlagValue(choice)}.`);
  }
  return choice;
}

/**
 * How many threads the CPU kernels' GEMM may use, the calling one included: a whole number
 * from 1 to MAX_CPU_THREADS. 1 runs everything on the calling thread. The default: in Node,
 * the cores Node reports (os.availableParallelism), at most DEFAULT_MAX_CPU_THREADS; in a
 * browser page or worker that is cross-origin isolated (so it may share memory with workers),
 * navigator.hardwareConcurrency, at most that; anywhere else 1.
 */
export const CPU_THREADS_FLAG = 'IM2COL_CPU_THREADS';
export const MAX_CPU_THREADS = 64;
const DEFAULT_MAX_CPU_THREADS = 8;

export function cpuThreads(): number {
  const threads: unknown = env().get(CPU_THREADS_FLAG);
  if (typeof threads !== 'number' || !Number.isInteger(threads) || threads < 1 ||
      threads > MAX_CPU_THREADS) {
    throw new Error(`${CPU_THREADS_FLAG} must be a whole number from 1 to ${MAX_CPU_THREADS}, ` +
        `but is ${describeFlagValue(threads)}.`);
  }
  return threads;
}

interface ThreadsHost {
  process?: {getBuiltinModule?: (name: string) => unknown, versions?: {node?: string}};
  crossOriginIsolated?: boolean;
  navigator?: {hardwareConcurrency?: number};
}

function defaultCpuThreads(): number {
  const host = globalThis as ThreadsHost;
  let cores = 1;
  if (host.process?.versions?.node != null) {
    const os = host.process.getBuiltinModule?.('os') as
        {availableParallelism?: () => number, cpus(): unknown[]} | undefined;
    cores = os == null ? 1 : os.availableParallelism?.() ?? os.cpus().length;
  } else if (host.crossOriginIsolated === true) {
    cores = host.navigator?.hardwareConcurrency ?? 1;
  }
  return Math.max(1, Math.min(DEFAULT_MAX_CPU_THREADS, Math.floor(cores)));
}

/**
 * Checks every flag of this package, so an op can refuse a bad setting before any work
 * (the kernels check again where they read a flag).
 */
export function checkIm2colFlags(): void {
  workspaceBytes();
  cpuGemmChoice();
  cpuThreads();
}

// Once per realm: another copy of the package may have registered (and a user set) them.
registerOnce('flags', () => {
  env().registerFlag(WORKSPACE_BYTES_FLAG, () => 64 * 1024 * 1024);
  env().registerFlag(CPU_GEMM_FLAG, () => 'auto');
  env().registerFlag(CPU_THREADS_FLAG, defaultCpuThreads);
});

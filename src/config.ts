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
 * Checks every flag of this package, so an op can refuse a bad setting before any work
 * (the kernels check again where they read a flag).
 */
export function checkIm2colFlags(): void {
  workspaceBytes();
  cpuGemmChoice();
}

// Once per realm: another copy of the package may have registered (and a user set) them.
registerOnce('flags', () => {
  env().registerFlag(WORKSPACE_BYTES_FLAG, () => 64 * 1024 * 1024);
  env().registerFlag(CPU_GEMM_FLAG, () => 'auto');
});

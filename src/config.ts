/**
 * Settings, kept as tfjs environment flags so users set them the tfjs way:
 * `tf.env().set('IM2COL_WORKSPACE_BYTES', 16 * 2 ** 20)`.
 */
import {env} from '@tensorflow/tfjs-core';

/** Upper bound, in bytes, of the im2col patch-matrix workspace of one kernel call. */
export const WORKSPACE_BYTES_FLAG = 'IM2COL_WORKSPACE_BYTES';

env().registerFlag(WORKSPACE_BYTES_FLAG, () => 64 * 1024 * 1024);

export function workspaceBytes(): number {
  const bytes = env().getNumber(WORKSPACE_BYTES_FLAG);
  if (!(bytes > 0)) {
    throw new Error(`${WORKSPACE_BYTES_FLAG} must be a positive number of bytes, but is ${bytes}.`);
  }
  return bytes;
}

/**
 * Which GEMM the CPU kernels use: 'wasm' (WebAssembly SIMD), 'typescript', or 'auto' (wasm
 * where the engine has WebAssembly SIMD, else typescript).
 */
export const CPU_GEMM_FLAG = 'IM2COL_CPU_GEMM';

export type CpuGemmChoice = 'auto' | 'wasm' | 'typescript';

env().registerFlag(CPU_GEMM_FLAG, () => 'auto');

export function cpuGemmChoice(): CpuGemmChoice {
  const choice = env().get(CPU_GEMM_FLAG);
  if (choice !== 'auto' && choice !== 'wasm' && choice !== 'typescript') {
    throw new Error(`${CPU_GEMM_FLAG} must be 'auto', 'wasm' or 'typescript', but is ` +
        `${JSON.stringify(choice)}.`);
  }
  return choice;
}

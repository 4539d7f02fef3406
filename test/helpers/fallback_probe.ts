/**
 * The probe both fallback tests run, one in a Node child process under `ulimit -v`
 * (wasm_fallback.test.ts), one on a page whose CSP forbids WebAssembly (browser/wasm_csp):
 * an 'auto' conv on the cpu backend against tf.conv2d on tfjs's own kernel, the warnings it
 * printed, availableCpuGemms(), and what an explicit 'wasm' says. Imports nothing, so the
 * page and the child bundle it with their own tfjs.
 */
import type * as tfType from '@tensorflow/tfjs-core';
import type * as libType from '../../src';

export interface FallbackProbeResult {
  available: string[];
  maxError: number;
  lengths: boolean;
  warnings: string[];
  wasmError: string | null;
}

export async function fallbackProbe(tf: typeof tfType, lib: typeof libType):
    Promise<FallbackProbeResult> {
  const warnings: string[] = [];
  const warn = console.warn;
  console.warn = (...args: unknown[]) => { warnings.push(args.map(String).join(' ')); };
  try {
    await tf.setBackend('cpu');
    const values = (n: number, seed: number) =>
        Float32Array.from({length: n}, (_, i) => Math.sin(i * 0.37 + seed));
    const x = tf.tensor4d(values(2 * 13 * 11 * 5, 1), [2, 13, 11, 5]);
    const filter = tf.tensor4d(values(3 * 3 * 5 * 9, 2), [3, 3, 5, 9]);
    let maxError = 0, lengths = true;
    for (const strides of [1, [2, 1]] as Array<number | [number, number]>) {
      const expected = tf.conv2d(x, filter, strides, 'same').dataSync();
      const actual = lib.im2colConv2d(x, filter, strides, 'same').dataSync();
      lengths = lengths && actual.length === expected.length;
      for (let i = 0; i < expected.length; i++) {
        maxError = Math.max(maxError, Math.abs(actual[i] - expected[i]));
      }
    }
    let wasmError: string | null = null;
    tf.env().set(lib.CPU_GEMM_FLAG, 'wasm');
    try {
      lib.im2colConv2d(x, filter, 1, 'same').dataSync();
    } catch (error) {
      wasmError = (error as Error).message;
    } finally {
      tf.env().set(lib.CPU_GEMM_FLAG, 'auto');
    }
    return {available: lib.availableCpuGemms(), maxError, lengths, warnings, wasmError};
  } finally {
    console.warn = warn;
  }
}

import {CPU_GEMM_FLAG, cpuGemmChoice, cpuThreads} from '../../config';
import {threadedGemm} from '../threads/threaded_gemm';
import {CpuGemmName, Gemm, WasmMemoryError} from './gemm';
import {typescriptGemm} from './gemm_typescript';
import {wasmGemm, wasmUnavailableReason} from './gemm_wasm';

export type {CpuGemmName, Gemm, GemmEpilogue, GemmPlan} from './gemm';
export {WasmChannelwisePlan, WasmIm2colSource} from './gemm_wasm';

/** The CPU GEMMs this engine can run, fastest first ('wasm' only where the module runs). */
export function availableCpuGemms(): CpuGemmName[] {
  return wasmUnavailableReason() === undefined ? ['wasm', 'typescript'] : ['typescript'];
}

let warned = false;

/** One console warning per process (or page) that 'auto' runs the TypeScript GEMM. */
function warnFallback(reason: string): void {
  if (warned) return;
  warned = true;
  console.warn(`tfjs-im2col: ${CPU_GEMM_FLAG} is 'auto' and the WebAssembly GEMM cannot run ` +
      `(${reason}); the CPU kernels use the TypeScript GEMM.`);
}

/**
 * The GEMM the CPU kernels use, as the IM2COL_CPU_GEMM flag selects it: under 'auto' the
 * wasm one where it runs, else the TypeScript one (with one warning); an explicit 'wasm'
 * where it cannot run is an error saying why.
 */
export function cpuGemm(): Gemm {
  const choice = cpuGemmChoice();
  if (choice === 'typescript') return typescriptGemm;
  const reason = wasmUnavailableReason();
  if (reason === undefined) {
    const threads = cpuThreads();
    return threads > 1 ? threadedGemm(threads) : wasmGemm;
  }
  if (choice === 'wasm') {
    throw new Error(`${CPU_GEMM_FLAG} is 'wasm', but the WebAssembly GEMM cannot run here ` +
        `(${reason}); set it to 'auto' or 'typescript'.`);
  }
  warnFallback(reason);
  return typescriptGemm;
}

/**
 * The GEMM to run a call on again after `error` was thrown setting it up on `failed`: where
 * the wasm GEMM could not get memory for the call (a fresh instance or memory.grow failed),
 * 'auto' goes on with the TypeScript GEMM (with one warning); anything else is rethrown, an
 * explicit 'wasm' as an error naming the flag. The wasm GEMM fails in `prepare`, before any
 * tile is written, so the caller can start the call over.
 */
export function fallbackGemm(failed: Gemm, error: unknown): Gemm {
  if (failed.name !== 'wasm' || !(error instanceof WasmMemoryError)) throw error;
  if (cpuGemmChoice() === 'wasm') {
    throw new Error(`${CPU_GEMM_FLAG} is 'wasm', but ${error.message}; set it to 'auto' or ` +
        `'typescript'.`);
  }
  warnFallback(error.message);
  return typescriptGemm;
}

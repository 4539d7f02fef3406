import {CPU_GEMM_FLAG, cpuGemmChoice} from '../../config';
import type {CpuGemmName, Gemm} from './gemm';
import {typescriptGemm} from './gemm_typescript';
import {wasmGemm, wasmSimdSupported} from './gemm_wasm';

export type {CpuGemmName, Gemm, GemmSession} from './gemm';

/** The CPU GEMMs this engine can run, fastest first. */
export function availableCpuGemms(): CpuGemmName[] {
  return wasmSimdSupported() ? ['wasm', 'typescript'] : ['typescript'];
}

/** The GEMM the CPU kernels use, as the IM2COL_CPU_GEMM flag selects it. */
export function cpuGemm(): Gemm {
  const choice = cpuGemmChoice();
  if (choice === 'typescript') return typescriptGemm;
  if (choice === 'wasm' && !wasmSimdSupported()) {
    throw new Error(`${CPU_GEMM_FLAG} is 'wasm', but this engine lacks WebAssembly SIMD; ` +
        `available: ${availableCpuGemms().join(', ')}.`);
  }
  return wasmSimdSupported() ? wasmGemm : typescriptGemm;
}

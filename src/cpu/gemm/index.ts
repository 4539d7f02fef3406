import type {Gemm} from './gemm';
import {typescriptGemm} from './gemm_typescript';

export type {Gemm, PackedFilter} from './gemm';

/** The GEMM the CPU kernels use. */
export function cpuGemm(): Gemm {
  return typescriptGemm;
}

/**
 * The CPU GEMM, BLAS-style: `C[m×n] = A[m×k] · B[k×n]` with offsets and leading dimensions,
 * apart from what fills A (a patch source, src/cpu/patch_source.ts).
 *
 * One call of a convolution is one plan: `prepare` packs B (the flattened filter,
 * [filterHeight*filterWidth*inChannels, outChannels] as tfjs lays it out, or a column slice
 * of it) once, BLIS/XNNPACK style, and sets up scratch for A tiles; then `multiply` runs per
 * tile of A, reusing the packed B. C is addressed with a row stride and a column stride, so
 * a product lands straight in an NHWC (rowStride = ldc, colStride = 1) or NCHW (rowStride =
 * 1, colStride = rows per image) output without a transpose.
 */

/**
 * Work on the C tile just written (bias and activation, say): rows [0, rows) at
 * c[cOffset + i * rowStride + j * colStride], while they are still in cache.
 */
export type GemmEpilogue = (c: Float32Array, cOffset: number, rows: number) => void;

export interface Gemm {
  readonly name: CpuGemmName;
  /** Rows of A per tile that keep the GEMM in cache; the caller may use fewer. */
  readonly preferredTileRows: number;
  /**
   * Packs B: k×n floats at b[bOffset + p * ldb + j]. Sets up scratch for A tiles of up to
   * `maxRows` rows and `extraFloats` floats of scratch for the patch source, both in the
   * memory this GEMM reads (a wasm module's memory, for the wasm GEMM).
   */
  prepare(b: Float32Array, bOffset: number, ldb: number, k: number, n: number, maxRows: number,
          extraFloats?: number): GemmPlan;
}

export interface GemmPlan {
  readonly k: number;
  readonly n: number;
  /** Whether B holds an Inf or a NaN (found while packing it). */
  readonly filterHasNonFinite: boolean;
  /**
   * Where A tiles are read without a copy: room for `maxRows` rows at a[aOffset + i * lda].
   * Valid until the next `prepare` of this GEMM.
   */
  readonly a: Float32Array;
  readonly aOffset: number;
  readonly lda: number;
  /** The `extraFloats` of scratch asked for, at scratch[scratchOffset], in A's memory. */
  readonly scratch: Float32Array;
  readonly scratchOffset: number;
  /**
   * C = A · B for m ≤ maxRows rows of A at a[aOffset + i * lda + p] (any array; the plan's
   * own `a` avoids a copy), C at c[cOffset + i * cRowStride + j * cColStride]; then
   * `epilogue` on that tile.
   */
  multiply(m: number, a: Float32Array, aOffset: number, lda: number, c: Float32Array,
           cOffset: number, cRowStride: number, cColStride: number, epilogue?: GemmEpilogue):
      void;
}

export type CpuGemmName = 'wasm' | 'typescript';

/**
 * The wasm GEMM could not get its memory (an instance or memory.grow failed): under 'auto'
 * the call falls back to the TypeScript GEMM.
 */
export class WasmMemoryError extends Error {}

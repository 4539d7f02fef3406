/**
 * The one GEMM entry of the CPU kernels: `out[m×n] = A[m×k] · B[k×n]`, where A is a tile
 * of the patch matrix (row-major, k floats a row) and B the flattened filter
 * ([filterHeight*filterWidth*inChannels, outChannels], tfjs's filter layout as it is).
 * `out` is addressed with a row stride and a column stride, so the product lands straight
 * in an NHWC (rowStride = n, colStride = 1) or NCHW (rowStride = 1, colStride = rows per
 * image) output without a transpose.
 */
export interface PackedFilter {
  readonly k: number;
  readonly n: number;
}

export interface Gemm {
  readonly name: string;
  /** Tiles of A are best a multiple of this many rows (the micro-kernel's height). */
  readonly rowMultiple: number;
  /** Reorders B once per kernel call into the panels the micro-kernel streams. */
  packFilter(filter: Float32Array, k: number, n: number): PackedFilter;
  /** Scratch for A with room for `length` floats; the caller writes patch rows into it. */
  workspace(length: number): Float32Array;
  /** Computes rows [0, m) of A · B into `out`. `a` must be the array `workspace` returned. */
  multiply(a: Float32Array, m: number, b: PackedFilter, out: Float32Array, outOffset: number,
           outRowStride: number, outColStride: number): void;
}

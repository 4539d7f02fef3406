import type {ConvGeometry} from '../../geometry';

/**
 * The one GEMM entry of the CPU kernels: `C[m×n] = A[m×k] · B[k×n]`, where A is a tile of
 * the patch matrix (row-major, k floats a row) and B the flattened filter
 * ([filterHeight*filterWidth*inChannels, outChannels], tfjs's filter layout as it is).
 *
 * One convolution is one session: `begin` packs B once and sets up the scratch for A; per
 * tile the caller has the session write patch rows of the input into `session.a`
 * (`fillPatchRows`, im2col where the GEMM keeps its data) and calls `multiply`. The product
 * is addressed with a row stride and a column stride, so it lands straight in an NHWC
 * (rowStride = n, colStride = 1) or NCHW (rowStride = 1, colStride = rows per image) output
 * without a transpose.
 */
export interface Gemm {
  readonly name: CpuGemmName;
  /** Rows of A per tile that keep the GEMM in cache; the caller may use fewer. */
  readonly preferredTileRows: number;
  /**
   * Packs B (k×n) and sets up scratch for tiles of up to `maxRows` rows of A. `input`, when
   * given, is the convolution whose patch rows `fillPatchRows` writes.
   */
  begin(filter: Float32Array, k: number, n: number, maxRows: number, input?: ConvInput):
      GemmSession;
}

export interface GemmSession {
  /** Scratch for A: room for `maxRows` rows of k floats. Valid until the next `begin`. */
  readonly a: Float32Array;
  /** Whether B holds an Inf or a NaN (found while packing it). */
  readonly filterHasNonFinite: boolean;
  /** Writes `rows` patch rows of the input (flat rows from `flatRow0`) into `a`. */
  fillPatchRows(flatRow0: number, rows: number): void;
  /** Computes rows [0, m) of A · B into `out` at `outOffset` with the given strides. */
  multiply(m: number, out: Float32Array, outOffset: number, outRowStride: number,
           outColStride: number): void;
}

/** The image a session's im2col reads, and the convolution's geometry. */
export interface ConvInput {
  readonly x: Float32Array;
  readonly geometry: ConvGeometry;
}

export type CpuGemmName = 'wasm' | 'typescript';

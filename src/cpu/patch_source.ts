/**
 * What fills the GEMM's A tiles: a patch source writes rows of a convolution's patch matrix
 * (one row per output position) wherever the GEMM plan wants them. The GEMM knows nothing
 * of convolutions, so each convolution variant is a patch source over the one GEMM:
 *   - im2col (this file, in TypeScript; and the wasm module's in-memory im2col,
 *     gemm/gemm_wasm.ts, which writes only into that GEMM's memory);
 *   - a grouped convolution would run one GEMM per group, B a column slice of the filter
 *     (bOffset, ldb = outChannels) and a source over that group's channel slice;
 *   - depthwise: the same im2col rows, multiplied channel by channel instead of by a GEMM
 *     (depthwise.ts; the wasm module's channelwise product, gemm/gemm_wasm.ts);
 *   - 3D, a vol2col source; a transposed convolution multiplies first and scatters C with
 *     col2im in the epilogue instead.
 */
import type {ConvGeometry} from '../geometry';
import {fillPatchRows} from './patch_matrix';

export interface PatchSource {
  /**
   * Floats of scratch the source wants beside the A tiles, in the GEMM's memory, for tiles of
   * up to `maxRows` rows (the GEMM plan makes room for them; 0 for none).
   */
  scratchFloats(maxRows: number): number;
  /**
   * Writes patch rows [flatRow0, flatRow0 + rows) (flat row = image * outHeight * outWidth +
   * outRow * outWidth + outCol; a tile may span images) to dst[dstOffset + r * lda + p], p
   * over the patch length. `scratch` at `scratchOffset` is the room asked for.
   */
  fill(flatRow0: number, rows: number, dst: Float32Array, dstOffset: number, lda: number,
       scratch: Float32Array, scratchOffset: number): void;
}

/** im2col in TypeScript, straight from the input (it needs no scratch). */
export class Im2colSource implements PatchSource {
  constructor(private readonly x: Float32Array, private readonly g: ConvGeometry) {}

  scratchFloats(): number {
    return 0;
  }

  fill(flatRow0: number, rows: number, dst: Float32Array, dstOffset: number, lda: number):
      void {
    fillPatchRows(this.x, this.g, flatRow0, rows, dst, dstOffset, lda);
  }
}

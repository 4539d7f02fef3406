/**
 * tf.conv2d's cpu kernel skips the taps of a window that fall on the padding; the GEMM
 * multiplies them, as zeros. Both give the same sums unless a filter weight is Inf or NaN,
 * where 0 · Inf = NaN. For such a filter, the outputs whose windows reach past the input's
 * edges are summed again from their patch row's in-bounds taps only, as tfjs sums them.
 */
import type {ConvGeometry} from '../geometry';
import {patchOrigin} from './patch_matrix';

/**
 * Rewrites the outputs of patch rows [flatRow0, flatRow0 + rows) whose windows leave the
 * input. `patch` holds those rows (row r at patchOffset + r * lda), `filter` is
 * [k, outChannels], and output (row i, channel j) is at `outOffset + i * rowStride + j *
 * colStride`, as the GEMM wrote it.
 */
export function resumWindowsOverPadding(
    patch: Float32Array, patchOffset: number, lda: number, filter: Float32Array,
    g: ConvGeometry, flatRow0: number, rows: number, out: Float32Array, outOffset: number,
    rowStride: number, colStride: number): void {
  const {inHeight, inWidth, inChannels, filterHeight, filterWidth, outChannels} = g;
  const {dilationHeight, dilationWidth} = g;
  for (let r = 0; r < rows; r++) {
    const {inRow0, inCol0} = patchOrigin(g, flatRow0 + r);
    const inside = inRow0 >= 0 && inCol0 >= 0 &&
        inRow0 + (filterHeight - 1) * dilationHeight < inHeight &&
        inCol0 + (filterWidth - 1) * dilationWidth < inWidth;
    if (inside) continue;
    for (let j = 0; j < outChannels; j++) {
      let sum = 0;
      for (let kh = 0; kh < filterHeight; kh++) {
        const inRow = inRow0 + kh * dilationHeight;
        if (inRow < 0 || inRow >= inHeight) continue;
        for (let kw = 0; kw < filterWidth; kw++) {
          const inCol = inCol0 + kw * dilationWidth;
          if (inCol < 0 || inCol >= inWidth) continue;
          const tap = (kh * filterWidth + kw) * inChannels;
          for (let c = 0; c < inChannels; c++) {
            sum += patch[patchOffset + r * lda + tap + c] * filter[(tap + c) * outChannels + j];
          }
        }
      }
      out[outOffset + r * rowStride + j * colStride] = sum;
    }
  }
}

/**
 * The CPU convolution: im2col into a bounded workspace, one GEMM per tile of output
 * positions, results written in place in the output (NHWC or NCHW).
 */
import {util} from '@tensorflow/tfjs-core';
import {workspaceBytes as workspaceBudget} from '../config';
import {ConvGeometry, patchLength, patchRowsPerTile} from '../geometry';
import {cpuGemm} from './gemm';
import {resumWindowsOverPadding} from './padded_taps';

/**
 * Work applied to a tile's outputs right after its GEMM, while they are still in cache
 * (bias and activation of the fused kernel): flat output rows [flatRow0, flatRow0 + rows),
 * every channel, in the output's layout.
 */
export type TileEpilogue = (out: Float32Array, flatRow0: number, rows: number) => void;

/** Returns the output and the size of the patch-matrix workspace it used, in bytes. */
export function convolveIm2col(x: Float32Array, filter: Float32Array, g: ConvGeometry,
                               epilogue?: TileEpilogue):
    {out: Float32Array, workspaceBytes: number} {
  const out = new Float32Array(util.sizeFromShape(g.outShape));
  const rowsPerImage = g.outHeight * g.outWidth;
  const totalRows = g.batchSize * rowsPerImage;
  const depth = patchLength(g);
  const outChannels = g.outChannels;
  if (totalRows === 0 || outChannels === 0 || depth === 0) {
    epilogue?.(out, 0, totalRows);
    return {out, workspaceBytes: 0};
  }

  const gemm = cpuGemm();
  // Cache-sized tiles, never above the workspace budget; NCHW tiles stay within one image.
  const channelsLast = g.dataFormat === 'channelsLast';
  const tileRows = Math.min(patchRowsPerTile(g, workspaceBudget()),
      channelsLast ? totalRows : rowsPerImage, gemm.preferredTileRows);
  const session = gemm.begin(filter, depth, outChannels, tileRows, {x, geometry: g});
  for (let row0 = 0; row0 < totalRows;) {
    // NHWC output rows are contiguous across images; NCHW tiles stop at an image's end.
    const limit = channelsLast ? totalRows : (Math.floor(row0 / rowsPerImage) + 1) * rowsPerImage;
    const rows = Math.min(tileRows, limit - row0);
    session.fillPatchRows(row0, rows);
    let offset = row0 * outChannels, rowStride = outChannels, colStride = 1;
    if (!channelsLast) {
      const image = Math.floor(row0 / rowsPerImage);
      offset = image * outChannels * rowsPerImage + (row0 - image * rowsPerImage);
      rowStride = 1;
      colStride = rowsPerImage;
    }
    session.multiply(rows, out, offset, rowStride, colStride);
    if (session.filterHasNonFinite) {
      resumWindowsOverPadding(session.a, filter, g, row0, rows, out, offset, rowStride, colStride);
    }
    epilogue?.(out, row0, rows);
    row0 += rows;
  }
  return {out, workspaceBytes: 4 * tileRows * depth};
}

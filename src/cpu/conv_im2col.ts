/**
 * The CPU convolution: a patch source (im2col) fills bounded A tiles, one GEMM per tile of
 * output positions against the filter packed once, results written in place in the output
 * (NHWC or NCHW).
 */
import {util} from '@tensorflow/tfjs-core';
import {workspaceBytes as workspaceBudget} from '../config';
import {ConvGeometry, patchLength, patchRowsPerTile} from '../geometry';
import {cpuGemm, fallbackGemm, Gemm, GemmPlan, WasmIm2colSource} from './gemm';
import {resumWindowsOverPadding} from './padded_taps';
import {Im2colSource, PatchSource} from './patch_source';

/**
 * Work applied to a tile's outputs right after its GEMM, while they are still in cache
 * (bias and activation of the fused kernel): flat output rows [flatRow0, flatRow0 + rows),
 * every channel, in the output's layout.
 */
export type TileEpilogue = (out: Float32Array, flatRow0: number, rows: number) => void;

/** The im2col that fills a GEMM's tiles fastest: the wasm GEMM's own, in its memory. */
function im2colFor(gemm: Gemm, x: Float32Array, g: ConvGeometry): PatchSource {
  return gemm.name === 'wasm' ? new WasmIm2colSource(x, g) : new Im2colSource(x, g);
}

/**
 * Returns the output and the size of the patch-matrix workspace it used, in bytes. `out`, if
 * given, receives the result instead of a new array (g.outShape's size; every element is
 * written): the wasm driver passes a view of its backend's heap.
 */
export function convolveIm2col(x: Float32Array, filter: Float32Array, g: ConvGeometry,
                               epilogue?: TileEpilogue, out?: Float32Array):
    {out: Float32Array, workspaceBytes: number} {
  const budget = workspaceBudget();
  const size = util.sizeFromShape(g.outShape);
  if (out == null) {
    out = new Float32Array(size);
  } else if (out.length !== size) {
    throw new Error(`convolveIm2col: out has ${out.length} elements, the output ${size}`);
  }
  const rowsPerImage = g.outHeight * g.outWidth;
  const totalRows = g.batchSize * rowsPerImage;
  const depth = patchLength(g);
  const outChannels = g.outChannels;
  if (totalRows === 0 || outChannels === 0 || depth === 0) {
    out.fill(0);  // A given `out` may hold anything (the wasm heap is not cleared).
    epilogue?.(out, 0, totalRows);
    return {out, workspaceBytes: 0};
  }
  const channelsLast = g.dataFormat === 'channelsLast';
  // Cache-sized tiles, never above the workspace budget; NCHW tiles stay within one image.
  const budgetRows = Math.min(patchRowsPerTile(g, budget), channelsLast ? totalRows : rowsPerImage);

  let gemm = cpuGemm();
  let tileRows: number, source: PatchSource, plan: GemmPlan;
  for (;;) {
    tileRows = Math.min(budgetRows, gemm.preferredTileRows);
    source = im2colFor(gemm, x, g);
    try {
      plan = gemm.prepare(filter, 0, outChannels, depth, outChannels, tileRows,
                          source.scratchFloats(tileRows));
      break;
    } catch (error) {
      gemm = fallbackGemm(gemm, error);
    }
  }

  const {a, aOffset, lda, scratch, scratchOffset} = plan;
  // The tile the epilogue is called for (one closure for every tile, made only if needed).
  let row0 = 0, rows = 0, offset = 0, rowStride = outChannels, colStride = 1;
  const tileEpilogue = plan.filterHasNonFinite || epilogue ? () => {
    if (plan.filterHasNonFinite) {
      resumWindowsOverPadding(a, aOffset, lda, filter, g, row0, rows, out, offset, rowStride,
                              colStride);
    }
    epilogue?.(out, row0, rows);
  } : undefined;
  for (row0 = 0; row0 < totalRows; row0 += rows) {
    // NHWC output rows are contiguous across images; NCHW tiles stop at an image's end.
    const limit = channelsLast ? totalRows : (Math.floor(row0 / rowsPerImage) + 1) * rowsPerImage;
    rows = Math.min(tileRows, limit - row0);
    source.fill(row0, rows, a, aOffset, lda, scratch, scratchOffset);
    offset = row0 * outChannels;
    if (!channelsLast) {
      const image = Math.floor(row0 / rowsPerImage);
      offset = image * outChannels * rowsPerImage + (row0 - image * rowsPerImage);
      rowStride = 1;
      colStride = rowsPerImage;
    }
    plan.multiply(rows, a, aOffset, lda, out, offset, rowStride, colStride, tileEpilogue);
  }
  return {out, workspaceBytes: 4 * tileRows * depth};
}

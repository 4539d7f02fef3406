/**
 * The CPU convolutions: a patch source (im2col, vol2col) fills bounded A tiles, one GEMM per
 * tile of output positions against the filter packed once, results written in place in the
 * output (channels last or first). A grouped convolution runs that per group on the group's
 * channels; a depthwise one multiplies channel by channel (depthwise.ts).
 */
import {util} from '@tensorflow/tfjs-core';
import {workspaceBytes as workspaceBudget} from '../config';
import {Conv3dGeometry, ConvGeometry, patchLength, patchLength3d, patchRowsPerTile} from '../geometry';
import {convolveDepthwise} from './depthwise';
import {cpuGemm, fallbackGemm, Gemm, GemmPlan, WasmIm2colSource} from './gemm';
import {resumWindowsOverPadding} from './padded_taps';
import {Im2colSource, PatchSource} from './patch_source';
import {convolveThreaded} from './threads/threaded_conv';
import {resumVolumeWindows, Vol2colSource} from './vol2col';

/**
 * Work applied to a tile's outputs right after its GEMM, while they are still in cache
 * (bias and activation of the fused kernel): flat output rows [flatRow0, flatRow0 + rows),
 * every channel, in the output's layout.
 */
export type TileEpilogue = (out: Float32Array, flatRow0: number, rows: number) => void;

/** Fixes the tile's outputs for a filter with Inf or NaN (see padded_taps.ts). */
type Resum = (a: Float32Array, aOffset: number, lda: number, row0: number, rows: number,
              out: Float32Array, offset: number, rowStride: number, colStride: number) => void;

/**
 * One GEMM-shaped convolution: `images` x `rowsPerImage` patch rows of `depth` taps from a
 * patch source, times `filter` [depth, outChannels], written to output channels
 * [channelOffset, channelOffset + outChannels) of an output with `totalChannels`.
 */
export interface RowConvolution {
  images: number;
  rowsPerImage: number;
  depth: number;
  filter: Float32Array;
  outChannels: number;
  channelOffset: number;
  totalChannels: number;
  channelsLast: boolean;
  /** Patch rows per tile the workspace allows. */
  budgetRows: number;
  source(gemm: Gemm): PatchSource;
  resum: Resum;
}

/** The im2col that fills a GEMM's tiles fastest: the wasm GEMM's own, in its memory. */
function im2colFor(gemm: Gemm, x: Float32Array, g: ConvGeometry): PatchSource {
  return gemm.name === 'wasm' ? new WasmIm2colSource(x, g) : new Im2colSource(x, g);
}

/** Runs `c`; returns the rows per tile it used. */
export function convolveRows(c: RowConvolution, out: Float32Array, epilogue?: TileEpilogue):
    number {
  const {rowsPerImage, depth, outChannels, filter, channelsLast, totalChannels} = c;
  const totalRows = c.images * rowsPerImage;
  // Cache-sized tiles, never above the workspace budget; channels-first tiles stay within
  // one image.
  const budgetRows = Math.min(c.budgetRows, channelsLast ? totalRows : rowsPerImage);
  let gemm = cpuGemm();
  let tileRows: number, source: PatchSource, plan: GemmPlan;
  for (;;) {
    tileRows = Math.min(budgetRows, gemm.preferredTileRows);
    source = c.source(gemm);
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
  let row0 = 0, rows = 0, offset = 0, rowStride = totalChannels, colStride = 1;
  const tileEpilogue = plan.filterHasNonFinite || epilogue ? () => {
    if (plan.filterHasNonFinite) {
      c.resum(a, aOffset, lda, row0, rows, out, offset, rowStride, colStride);
    }
    epilogue?.(out, row0, rows);
  } : undefined;
  for (row0 = 0; row0 < totalRows; row0 += rows) {
    // Channels-last output rows are contiguous across images; channels-first tiles stop at
    // an image's end.
    const limit = channelsLast ? totalRows : (Math.floor(row0 / rowsPerImage) + 1) * rowsPerImage;
    rows = Math.min(tileRows, limit - row0);
    source.fill(row0, rows, a, aOffset, lda, scratch, scratchOffset);
    if (channelsLast) {
      offset = row0 * totalChannels + c.channelOffset;
    } else {
      const image = Math.floor(row0 / rowsPerImage);
      offset = (image * totalChannels + c.channelOffset) * rowsPerImage +
          (row0 - image * rowsPerImage);
      rowStride = 1;
      colStride = rowsPerImage;
    }
    plan.multiply(rows, a, aOffset, lda, out, offset, rowStride, colStride, tileEpilogue);
  }
  return tileRows;
}

/** `out` as given (checked against the size), or a new array of `size`. */
export function outputArray(out: Float32Array | undefined, size: number): Float32Array {
  if (out == null) return new Float32Array(size);
  if (out.length !== size) {
    throw new Error(`tfjs-im2col: out has ${out.length} elements, the output ${size}`);
  }
  return out;
}

/** The channels [channel0, channel0 + channels) of x (layout of g) as a tensor of their own. */
export function channelSlice(x: Float32Array, g: ConvGeometry, channel0: number, channels: number):
    Float32Array {
  const {batchSize, inChannels} = g;
  const pixels = g.inHeight * g.inWidth;
  const slice = new Float32Array(batchSize * pixels * channels);
  if (g.dataFormat === 'channelsLast') {
    for (let p = 0, to = 0, from = channel0; p < batchSize * pixels; p++, from += inChannels) {
      for (let c = 0; c < channels; c++) slice[to++] = x[from + c];
    }
  } else {
    for (let b = 0; b < batchSize; b++) {
      const from = (b * inChannels + channel0) * pixels;
      slice.set(x.subarray(from, from + channels * pixels), b * channels * pixels);
    }
  }
  return slice;
}

/** Filter columns [column0, column0 + columns) of a [rows, totalColumns] filter, contiguous. */
function filterColumns(filter: Float32Array, rows: number, totalColumns: number, column0: number,
                       columns: number): Float32Array {
  const slice = new Float32Array(rows * columns);
  for (let r = 0; r < rows; r++) {
    const from = r * totalColumns + column0;
    for (let j = 0; j < columns; j++) slice[r * columns + j] = filter[from + j];
  }
  return slice;
}

/** One group of a grouped convolution as a plain one (its channels, its filter columns). */
export function groupGeometry(g: ConvGeometry): ConvGeometry {
  const inChannels = g.inChannels / g.groups, outChannels = g.outChannels / g.groups;
  const channelsLast = g.dataFormat === 'channelsLast';
  const [batch, outHeight, outWidth] = [g.batchSize, g.outHeight, g.outWidth];
  return {
    ...g, inChannels, outChannels, groups: 1,
    inShape: channelsLast ? [batch, g.inHeight, g.inWidth, inChannels] :
                            [batch, inChannels, g.inHeight, g.inWidth],
    outShape: channelsLast ? [batch, outHeight, outWidth, outChannels] :
                             [batch, outChannels, outHeight, outWidth],
    filterShape: [g.filterHeight, g.filterWidth, inChannels, outChannels]
  };
}

/** A 2D convolution of one group (or of all channels): x, filter and g as the group's own. */
function convolution2d(x: Float32Array, filter: Float32Array, g: ConvGeometry,
                       channelOffset: number, totalChannels: number): RowConvolution {
  return {
    images: g.batchSize, rowsPerImage: g.outHeight * g.outWidth, depth: patchLength(g), filter,
    outChannels: g.outChannels, channelOffset, totalChannels,
    channelsLast: g.dataFormat === 'channelsLast',
    budgetRows: patchRowsPerTile(g, workspaceBudget()),
    source: gemm => im2colFor(gemm, x, g),
    resum: (a, aOffset, lda, row0, rows, out, offset, rowStride, colStride) =>
        resumWindowsOverPadding(a, aOffset, lda, filter, g, row0, rows, out, offset, rowStride,
                                colStride)
  };
}

/**
 * The 2D convolution of geometry g (grouped and depthwise included). Returns the output and
 * the size of the patch-matrix workspace it used, in bytes. `out`, if given, receives the
 * result instead of a new array (g.outShape's size; every element is written): the wasm
 * driver passes a view of its backend's heap. `filterKey` (the filter tensor's dataId) lets
 * the worker threads keep the filter packed for the next call with the same tensor.
 */
export function convolveIm2col(x: Float32Array, filter: Float32Array, g: ConvGeometry,
                               epilogue?: TileEpilogue, out?: Float32Array, filterKey?: object):
    {out: Float32Array, workspaceBytes: number} {
  out = outputArray(out, util.sizeFromShape(g.outShape));
  const totalRows = g.batchSize * g.outHeight * g.outWidth;
  if (totalRows === 0 || g.outChannels === 0 || patchLength(g) === 0) {
    out.fill(0);  // A given `out` may hold anything (the wasm heap is not cleared).
    epilogue?.(out, 0, totalRows);
    return {out, workspaceBytes: 0};
  }
  const {groups} = g;
  if (groups === 1) {
    if (cpuGemm().name === 'wasm') {
      const threadedBytes = convolveThreaded(x, filter, g, out, epilogue, filterKey);
      if (threadedBytes !== undefined) return {out, workspaceBytes: threadedBytes};
    }
    const tileRows = convolveRows(convolution2d(x, filter, g, 0, g.outChannels), out, epilogue);
    return {out, workspaceBytes: 4 * tileRows * patchLength(g)};
  }
  if (groups === g.inChannels) return convolveDepthwise(x, filter, g, out, epilogue);
  const group = groupGeometry(g);
  const depth = patchLength(group);
  let tileRows = 0;
  for (let i = 0; i < groups; i++) {
    const groupX = channelSlice(x, g, i * group.inChannels, group.inChannels);
    const groupFilter = filterColumns(filter, depth, g.outChannels, i * group.outChannels,
                                      group.outChannels);
    tileRows = convolveRows(
        convolution2d(groupX, groupFilter, group, i * group.outChannels, g.outChannels), out);
  }
  // Bias and activation need every group's outputs: one pass over the output.
  epilogue?.(out, 0, totalRows);
  return {out, workspaceBytes: 4 * tileRows * depth};
}

/** The 3D convolution of geometry g: vol2col tiles and the GEMM. */
export function convolveVolume(x: Float32Array, filter: Float32Array, g: Conv3dGeometry,
                               out?: Float32Array): {out: Float32Array, workspaceBytes: number} {
  out = outputArray(out, util.sizeFromShape(g.outShape));
  const rowsPerImage = g.outDepth * g.outHeight * g.outWidth;
  const depth = patchLength3d(g);
  if (g.batchSize * rowsPerImage === 0 || g.outChannels === 0 || depth === 0) {
    out.fill(0);
    return {out, workspaceBytes: 0};
  }
  const budgetRows = Math.max(1, Math.min(rowsPerImage,
      Math.floor(workspaceBudget() / (4 * depth))));
  const tileRows = convolveRows({
    images: g.batchSize, rowsPerImage, depth, filter, outChannels: g.outChannels,
    channelOffset: 0, totalChannels: g.outChannels, channelsLast: g.dataFormat === 'channelsLast',
    budgetRows, source: () => new Vol2colSource(x, g),
    resum: (a, aOffset, lda, row0, rows, o, offset, rowStride, colStride) =>
        resumVolumeWindows(a, aOffset, lda, filter, g, row0, rows, o, offset, rowStride,
                           colStride)
  }, out);
  return {out, workspaceBytes: 4 * tileRows * depth};
}

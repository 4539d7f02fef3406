/**
 * Transposed convolutions on the CPU (Conv2DBackpropInput, Conv3DBackpropInputV2, and the
 * depthwise one): per tile of dy rows, the GEMM dY · Wᵀ gives the rows of the patch-matrix
 * gradient, which col2im (col2vol) adds onto the output image. The GEMM is the one the
 * forward convolutions use, B the filter transposed once per call.
 */
import {util} from '@tensorflow/tfjs-core';
import {workspaceBytes as workspaceBudget} from '../config';
import {Conv3dGeometry, ConvGeometry, patchLength, patchLength3d, patchRowsPerTile} from '../geometry';
import {groupGeometry, outputArray} from './conv_im2col';
import {depthwisePatchGradient, depthwiseTileRows, depthwiseTiles} from './depthwise';
import {cpuGemm, fallbackGemm, GemmPlan} from './gemm';
import {addPatchRowsToImage} from './patch_matrix';
import {addVolumeRows} from './vol2col';

/** How dy is laid out: rows of output positions, `channels` per row, channels last or first. */
interface DyLayout {
  rowsPerImage: number;
  channels: number;
  channelsLast: boolean;
}

/** Copies dy rows [row0, row0 + rows), channels [channel0, channel0 + n), to dst rows of lda. */
function copyDyRows(dy: Float32Array, layout: DyLayout, row0: number, rows: number,
                    channel0: number, n: number, dst: Float32Array, dstOffset: number,
                    lda: number): void {
  const {rowsPerImage, channels} = layout;
  for (let r = 0; r < rows; r++) {
    const row = row0 + r, to = dstOffset + r * lda;
    if (layout.channelsLast) {
      const from = row * channels + channel0;
      for (let j = 0; j < n; j++) dst[to + j] = dy[from + j];
    } else {
      const image = Math.floor(row / rowsPerImage);
      const from = (image * channels + channel0) * rowsPerImage + (row - image * rowsPerImage);
      for (let j = 0; j < n; j++) dst[to + j] = dy[from + j * rowsPerImage];
    }
  }
}

/** Columns [column0, column0 + columns) of a [rows, totalColumns] matrix, transposed. */
function transposedColumns(filter: Float32Array, rows: number, totalColumns: number,
                           column0: number, columns: number): Float32Array {
  const t = new Float32Array(rows * columns);
  for (let p = 0; p < rows; p++) {
    const from = p * totalColumns + column0;
    for (let j = 0; j < columns; j++) t[j * rows + p] = filter[from + j];
  }
  return t;
}

/**
 * For each tile of the `totalRows` dy rows: patch tile = dY[tile rows, channels channel0 ..
 * channel0 + k) · wt, wt [k, n] being the group's filter columns transposed; `scatter` adds
 * the tile onto the image. Returns the rows per tile.
 */
function patchGradientTiles(dy: Float32Array, layout: DyLayout, totalRows: number,
                            channel0: number, wt: Float32Array, k: number, n: number,
                            budgetRows: number,
                            scatter: (patch: Float32Array, row0: number, rows: number) => void):
    number {
  const channelsLast = layout.channelsLast;
  const limitRows = Math.min(budgetRows, channelsLast ? totalRows : layout.rowsPerImage);
  let gemm = cpuGemm();
  let tileRows: number, plan: GemmPlan;
  for (;;) {
    tileRows = Math.max(1, Math.min(limitRows, gemm.preferredTileRows));
    try {
      plan = gemm.prepare(wt, 0, n, k, n, tileRows);
      break;
    } catch (error) {
      gemm = fallbackGemm(gemm, error);
    }
  }
  const patch = new Float32Array(tileRows * n);
  const {a, aOffset, lda} = plan;
  for (let row0 = 0, rows = 0; row0 < totalRows; row0 += rows) {
    rows = Math.min(tileRows, totalRows - row0);
    copyDyRows(dy, layout, row0, rows, channel0, k, a, aOffset, lda);
    plan.multiply(rows, a, aOffset, lda, patch, 0, n, 1);
    scatter(patch, row0, rows);
  }
  return tileRows;
}

/**
 * The transposed 2D convolution: the input gradient (g.inShape) of the convolution g from
 * dy (g.outShape), grouped and depthwise included. `out`, if given, receives it.
 */
export function convolveTranspose(dy: Float32Array, filter: Float32Array, g: ConvGeometry,
                                  out?: Float32Array): {out: Float32Array, workspaceBytes: number} {
  const size = util.sizeFromShape(g.inShape);
  // col2im adds onto it: a given `out` (the wasm heap) may hold anything.
  const dx = outputArray(out, size).fill(0);
  const rowsPerImage = g.outHeight * g.outWidth;
  const totalRows = g.batchSize * rowsPerImage;
  if (totalRows === 0 || g.outChannels === 0 || patchLength(g) === 0) {
    return {out: dx, workspaceBytes: 0};
  }
  const layout = {rowsPerImage, channels: g.outChannels,
                  channelsLast: g.dataFormat === 'channelsLast'};
  if (g.groups > 1 && g.groups === g.inChannels) {
    const depth = patchLength(g);
    const tileRows = depthwiseTileRows(g);
    const patch = new Float32Array(tileRows * depth);
    for (const [row0, rows] of depthwiseTiles(g, tileRows)) {
      depthwisePatchGradient(dy, filter, g, row0, rows, patch);
      addPatchRowsToImage(patch, 0, depth, g, row0, rows, dx, 0, g.inChannels);
    }
    return {out: dx, workspaceBytes: 4 * tileRows * depth};
  }
  const group = g.groups === 1 ? g : groupGeometry(g);
  const depth = patchLength(group);
  const budgetRows = patchRowsPerTile(group, workspaceBudget());
  let tileRows = 0;
  for (let i = 0; i < g.groups; i++) {
    const wt = transposedColumns(filter, depth, g.outChannels, i * group.outChannels,
                                 group.outChannels);
    tileRows = patchGradientTiles(dy, layout, totalRows, i * group.outChannels, wt,
        group.outChannels, depth, budgetRows, (patch, row0, rows) =>
            addPatchRowsToImage(patch, 0, depth, g, row0, rows, dx, i * group.inChannels,
                                group.inChannels));
  }
  return {out: dx, workspaceBytes: 4 * tileRows * depth};
}

/** The transposed 3D convolution: x's gradient (g.inShape) from dy (g.outShape). */
export function convolveVolumeTranspose(dy: Float32Array, filter: Float32Array,
                                        g: Conv3dGeometry, out?: Float32Array):
    {out: Float32Array, workspaceBytes: number} {
  const size = util.sizeFromShape(g.inShape);
  // col2im adds onto it: a given `out` (the wasm heap) may hold anything.
  const dx = outputArray(out, size).fill(0);
  const rowsPerImage = g.outDepth * g.outHeight * g.outWidth;
  const totalRows = g.batchSize * rowsPerImage;
  const depth = patchLength3d(g);
  if (totalRows === 0 || g.outChannels === 0 || depth === 0) return {out: dx, workspaceBytes: 0};
  const layout = {rowsPerImage, channels: g.outChannels,
                  channelsLast: g.dataFormat === 'channelsLast'};
  const budgetRows = Math.max(1, Math.floor(workspaceBudget() / (4 * depth)));
  const wt = transposedColumns(filter, depth, g.outChannels, 0, g.outChannels);
  const tileRows = patchGradientTiles(dy, layout, totalRows, 0, wt, g.outChannels, depth,
      budgetRows, (patch, row0, rows) => addVolumeRows(patch, 0, depth, g, row0, rows, dx));
  return {out: dx, workspaceBytes: 4 * tileRows * depth};
}

/**
 * Filter gradients on the CPU (Conv2DBackpropFilter, DepthwiseConv2dNativeBackpropFilter, the
 * 3D convolution's):
 * dW = Pᵀ · dY, P the patch matrix of x, summed tile by tile of output positions so the
 * patch rows in memory stay within IM2COL_WORKSPACE_BYTES. Per tile the GEMM computes
 * dYᵀ · P (the patch tile packed as the GEMM's B, the tile's dy transposed as its A, small)
 * and writes it transposed, in the filter's own [kh, kw, inChannels, outChannels] layout.
 */
import {util} from '@tensorflow/tfjs-core';
import {workspaceBytes as workspaceBudget} from '../config';
import {Conv3dGeometry, ConvGeometry, patchLength, patchLength3d, positionTiles} from '../geometry';
import {channelSlice, groupGeometry, outputArray} from './conv_im2col';
import {readOutputRow} from './depthwise';
import {cpuGemm, fallbackGemm, Gemm, GemmPlan} from './gemm';
import {fillPatchRows} from './patch_matrix';
import {fillVolumeRows} from './vol2col';

/** Rows per tile beyond which a longer GEMM depth gains nothing. */
const MAX_TILE_ROWS = 512;

/** Where the patch rows come from and how dy lays out the same output positions. */
interface FilterGradientRows {
  images: number;
  rowsPerImage: number;
  /** Patch-matrix columns: the filter's rows (kh·kw·inC, or kd·kh·kw·inC). */
  depth: number;
  /** dy's channels (all groups'), channels last or first. */
  outChannels: number;
  channelsLast: boolean;
  /** Writes patch rows [row0, row0 + rows) to patch, row r at r * depth. */
  fill(row0: number, rows: number, patch: Float32Array): void;
}

/** The tiles of `c`'s output positions, each holding at most the workspace's patch rows. */
function filterGradientTiles(c: FilterGradientRows): Generator<[number, number]> {
  const tileRows = Math.max(1, Math.min(MAX_TILE_ROWS,
      Math.floor(workspaceBudget() / (4 * Math.max(1, c.depth)))));
  return positionTiles(c.images, c.rowsPerImage, c.channelsLast, tileRows);
}

/** dy[row, channel0 + i] for the tile's rows, as dst[dstOffset + i * lda + r]: dYᵀ of a tile. */
function copyDyTransposed(dy: Float32Array, c: FilterGradientRows, row0: number, rows: number,
                          channel0: number, channels: number, dst: Float32Array,
                          dstOffset: number, lda: number): void {
  const {rowsPerImage, outChannels} = c;
  if (c.channelsLast) {
    for (let r = 0; r < rows; r++) {
      const from = (row0 + r) * outChannels + channel0;
      for (let i = 0; i < channels; i++) dst[dstOffset + i * lda + r] = dy[from + i];
    }
  } else {
    // A channels-first tile lies within one image: each channel's rows are one run.
    const image = Math.floor(row0 / rowsPerImage), position0 = row0 - image * rowsPerImage;
    for (let i = 0; i < channels; i++) {
      const from = (image * outChannels + channel0 + i) * rowsPerImage + position0;
      dst.set(dy.subarray(from, from + rows), dstOffset + i * lda);
    }
  }
}

/**
 * dW[:, channel0 .. channel0 + n) += Pᵀ · dY[:, channel0 .. channel0 + n), dW with
 * `totalColumns` columns, P from `c`. Returns the patch workspace's bytes.
 */
function addFilterGradient(c: FilterGradientRows, dy: Float32Array, channel0: number, n: number,
                           dw: Float32Array, totalColumns: number): number {
  const depth = c.depth;
  let tileRowsUsed = 0;
  let patch = new Float32Array(0);
  const product = new Float32Array(depth * n);
  let gemm: Gemm = cpuGemm();
  for (const [row0, rows] of filterGradientTiles(c)) {
    if (patch.length < rows * depth) patch = new Float32Array(rows * depth);
    c.fill(row0, rows, patch);
    let plan: GemmPlan;
    for (;;) {
      try {
        plan = gemm.prepare(patch, 0, depth, rows, depth, n);
        break;
      } catch (error) {
        gemm = fallbackGemm(gemm, error);
      }
    }
    copyDyTransposed(dy, c, row0, rows, channel0, n, plan.a, plan.aOffset, plan.lda);
    // C[i, p] = (dYᵀ · P)[i, p] lands at product[p * n + i]: the filter's layout.
    plan.multiply(n, plan.a, plan.aOffset, plan.lda, product, 0, 1, n);
    for (let p = 0; p < depth; p++) {
      const to = p * totalColumns + channel0, from = p * n;
      for (let i = 0; i < n; i++) dw[to + i] += product[from + i];
    }
    tileRowsUsed = Math.max(tileRowsUsed, rows);
  }
  return 4 * tileRowsUsed * depth;
}

/** The 2D patch rows of x under g (a group's own x and g), dy laid out as `dyGeometry`'s. */
function imageRows(x: Float32Array, g: ConvGeometry, dyGeometry: ConvGeometry): FilterGradientRows {
  const depth = patchLength(g);
  return {
    images: g.batchSize, rowsPerImage: g.outHeight * g.outWidth, depth,
    outChannels: dyGeometry.outChannels, channelsLast: g.dataFormat === 'channelsLast',
    fill: (row0, rows, patch) => fillPatchRows(x, g, row0, rows, patch, 0, depth)
  };
}

/** The depthwise filter gradient ([kh, kw, C, multiplier]) added up tile by tile. */
function depthwiseFilterGradient(x: Float32Array, dy: Float32Array, g: ConvGeometry,
                                 dw: Float32Array): number {
  const rows = imageRows(x, g, g);
  const {depth} = rows;
  const channels = g.inChannels, outChannels = g.outChannels;
  const multiplier = outChannels / channels;
  const taps = g.filterHeight * g.filterWidth;
  const dyRow = new Float32Array(outChannels);
  let patch = new Float32Array(0), tileRowsUsed = 0;
  for (const [row0, count] of filterGradientTiles(rows)) {
    if (patch.length < count * depth) patch = new Float32Array(count * depth);
    rows.fill(row0, count, patch);
    for (let r = 0; r < count; r++) {
      readOutputRow(dy, g, row0 + r, dyRow);
      for (let t = 0, p = r * depth; t < taps; t++, p += channels) {
        const w = t * outChannels;
        for (let c = 0, o = 0; c < channels; c++) {
          const value = patch[p + c];
          for (let m = 0; m < multiplier; m++, o++) dw[w + o] += value * dyRow[o];
        }
      }
    }
    tileRowsUsed = Math.max(tileRowsUsed, count);
  }
  return 4 * tileRowsUsed * depth;
}

/**
 * The filter gradient of the 2D convolution g (grouped and depthwise included) from x
 * (g.inShape) and dy (g.outShape): g.filterShape's values. `out`, if given, receives it.
 */
export function convolveFilterGradient(x: Float32Array, dy: Float32Array, g: ConvGeometry,
                                       out?: Float32Array):
    {out: Float32Array, workspaceBytes: number} {
  const size = util.sizeFromShape(g.filterShape);
  // Tiles add onto it: a given `out` (the wasm heap) may hold anything.
  const dw = outputArray(out, size).fill(0);
  if (g.batchSize * g.outHeight * g.outWidth === 0 || g.outChannels === 0 || size === 0) {
    return {out: dw, workspaceBytes: 0};
  }
  if (g.groups === 1) {
    return {out: dw, workspaceBytes:
                 addFilterGradient(imageRows(x, g, g), dy, 0, g.outChannels, dw, g.outChannels)};
  }
  if (g.groups === g.inChannels) {
    return {out: dw, workspaceBytes: depthwiseFilterGradient(x, dy, g, dw)};
  }
  const group = groupGeometry(g);
  let workspaceBytes = 0;
  for (let i = 0; i < g.groups; i++) {
    const groupX = channelSlice(x, g, i * group.inChannels, group.inChannels);
    workspaceBytes = Math.max(workspaceBytes, addFilterGradient(
        imageRows(groupX, group, g), dy, i * group.outChannels, group.outChannels, dw,
        g.outChannels));
  }
  return {out: dw, workspaceBytes};
}

/**
 * The filter gradient of the 3D convolution g from x (g.inShape) and dy (g.outShape):
 * g.filterShape's values, vol2col's patch rows a tile at a time. `out`, if given, receives it.
 */
export function convolveVolumeFilterGradient(x: Float32Array, dy: Float32Array,
                                             g: Conv3dGeometry, out?: Float32Array):
    {out: Float32Array, workspaceBytes: number} {
  const size = util.sizeFromShape(g.filterShape);
  // Tiles add onto it: a given `out` (the wasm heap) may hold anything.
  const dw = outputArray(out, size).fill(0);
  const rowsPerImage = g.outDepth * g.outHeight * g.outWidth;
  const depth = patchLength3d(g);
  if (g.batchSize * rowsPerImage === 0 || g.outChannels === 0 || size === 0) {
    return {out: dw, workspaceBytes: 0};
  }
  const rows: FilterGradientRows = {
    images: g.batchSize, rowsPerImage, depth, outChannels: g.outChannels,
    channelsLast: g.dataFormat === 'channelsLast',
    fill: (row0, count, patch) => fillVolumeRows(x, g, row0, count, patch, 0, depth)
  };
  return {out: dw, workspaceBytes: addFilterGradient(rows, dy, 0, g.outChannels, dw,
                                                     g.outChannels)};
}

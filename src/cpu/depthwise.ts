/**
 * Depthwise convolutions (one input channel per group) on the CPU. A group's GEMM would be
 * [rows x kh*kw] times [kh*kw x multiplier]: far too thin for the GEMM's register blocks.
 * So the same im2col patch rows ((kh, kw, c) order) are multiplied channel by channel
 * instead, a product vectorised over the channels:
 *   out[r, c * multiplier + m] = sum over taps t of patch[r, t, c] * filter[t, c * multiplier + m]
 * and for the transposed convolution its adjoint,
 *   patch[r, t, c] = sum over m of dy[r, c * multiplier + m] * filter[t, c * multiplier + m].
 * With the wasm GEMM, the wasm module computes it (its im2col, then its f32x4 channelwise
 * product, a few patch rows at a time); with the TypeScript GEMM, a filter with Inf or NaN,
 * or where the module's memory cannot be had, TypeScript does.
 */
import {workspaceBytes as workspaceBudget} from '../config';
import {ConvGeometry, patchLength, patchRowsPerTile, positionTiles} from '../geometry';
import type {TileEpilogue} from './conv_im2col';
import {convolveDepthwiseThreaded} from './threads/threaded_depthwise';
import {cpuGemm, fallbackGemm, Gemm, WasmChannelwisePlan} from './gemm';
import {fillPatchRows, patchOrigin} from './patch_matrix';

/** Rows per tile: the patch tile stays in cache, within the workspace budget. */
const CACHE_TILE_ROWS = 64;
/** The wasm path: patch bytes per micro-tile, and output rows per tile. */
const L1_PATCH_BYTES = 16384;
const WASM_TILE_ROWS = 256;

/** Whether the filter holds an Inf or a NaN. */
function hasNonFinite(filter: Float32Array): boolean {
  for (let i = 0; i < filter.length; i++) {
    if (!Number.isFinite(filter[i])) return true;
  }
  return false;
}

/**
 * For a filter with Inf or NaN: whether each tap of the row's window reads inside the
 * input (tfjs skips the others; multiplying their zeros would give 0 · Inf = NaN).
 */
function insideTaps(g: ConvGeometry, flatRow: number, inside: Uint8Array): void {
  const {inRow0, inCol0} = patchOrigin(g, flatRow);
  for (let kh = 0, t = 0; kh < g.filterHeight; kh++) {
    const inRow = inRow0 + kh * g.dilationHeight;
    for (let kw = 0; kw < g.filterWidth; kw++, t++) {
      const inCol = inCol0 + kw * g.dilationWidth;
      inside[t] = inRow >= 0 && inRow < g.inHeight && inCol >= 0 && inCol < g.inWidth ? 1 : 0;
    }
  }
}

/** Tiles of patch rows: [row0, rows) with rows ≤ tileRows, channels-first ones within one image. */
export function depthwiseTiles(g: ConvGeometry, tileRows: number): Generator<[number, number]> {
  return positionTiles(g.batchSize, g.outHeight * g.outWidth, g.dataFormat === 'channelsLast',
                       tileRows);
}

/**
 * The wasm path's tiling, within the workspace budget: patch rows per micro-tile (the patch
 * workspace, sized to stay in L1) and output rows per tile (the outputs the module holds, the
 * input band it reads, and one call into the module).
 */
function wasmDepthwiseTiling(g: ConvGeometry): {tileRows: number, microRows: number} {
  const budgetRows = patchRowsPerTile(g, workspaceBudget());
  const l1Rows = Math.floor(L1_PATCH_BYTES / (4 * patchLength(g)));
  const microRows = Math.min(budgetRows, Math.max(4, l1Rows - l1Rows % 4));
  const tileRows = Math.min(budgetRows,
      Math.max(microRows, Math.min(WASM_TILE_ROWS, g.outHeight * g.outWidth)));
  return {tileRows, microRows};
}

/** Patch rows per tile of a depthwise convolution (at most one image's rows). */
export function depthwiseTileRows(g: ConvGeometry): number {
  return Math.min(CACHE_TILE_ROWS, patchRowsPerTile(g, workspaceBudget()));
}

/** The depthwise convolution of geometry g (g.groups = g.inChannels) into `out`. */
export function convolveDepthwise(x: Float32Array, filter: Float32Array, g: ConvGeometry,
                                  out: Float32Array, epilogue?: TileEpilogue):
    {out: Float32Array, workspaceBytes: number} {
  const skipPadding = hasNonFinite(filter);
  // The module's product sums every tap, so a filter with Inf or NaN (whose padded taps tfjs
  // skips) takes the TypeScript path.
  if (!skipPadding) {
    const gemm = cpuGemm();
    if (gemm.name === 'wasm') {
      const done = convolveDepthwiseWasm(x, filter, g, out, gemm, epilogue);
      if (done !== undefined) return done;
    }
  }
  return convolveDepthwiseTypescript(x, filter, g, out, skipPadding, epilogue);
}

/**
 * The wasm path: per tile, the module's im2col writes patch rows into its memory a few at a
 * time and its channelwise product turns them into the tile's outputs there, copied out with
 * the output's strides. Where the module's memory cannot be had, undefined (under 'auto';
 * fallbackGemm decides).
 */
function convolveDepthwiseWasm(x: Float32Array, filter: Float32Array, g: ConvGeometry,
                               out: Float32Array, gemm: Gemm, epilogue?: TileEpilogue):
    {out: Float32Array, workspaceBytes: number}|undefined {
  const {tileRows, microRows} = wasmDepthwiseTiling(g);
  const threadedBytes = convolveDepthwiseThreaded(x, filter, g, out, microRows, epilogue);
  if (threadedBytes !== undefined) return {out, workspaceBytes: threadedBytes};
  let plan: WasmChannelwisePlan;
  try {
    plan = new WasmChannelwisePlan(x, g, filter, tileRows, microRows);
  } catch (error) {
    fallbackGemm(gemm, error);
    return undefined;
  }
  const rowsPerImage = g.outHeight * g.outWidth;
  const outChannels = g.outChannels;
  const channelsLast = g.dataFormat === 'channelsLast';
  for (const [row0, rows] of depthwiseTiles(g, tileRows)) {
    if (channelsLast) {
      plan.run(row0, rows, out, row0 * outChannels, outChannels, 1);
    } else {
      const image = Math.floor(row0 / rowsPerImage);
      const at = image * outChannels * rowsPerImage + (row0 - image * rowsPerImage);
      plan.run(row0, rows, out, at, 1, rowsPerImage);
    }
    epilogue?.(out, row0, rows);
  }
  return {out, workspaceBytes: 4 * microRows * patchLength(g)};
}

/**
 * The TypeScript path: the TypeScript im2col, then per output a sum over the taps held in a
 * local (for a filter with Inf or NaN, over the taps inside the input only), written straight
 * into the output.
 */
function convolveDepthwiseTypescript(x: Float32Array, filter: Float32Array, g: ConvGeometry,
                                     out: Float32Array, skipPadding: boolean,
                                     epilogue?: TileEpilogue):
    {out: Float32Array, workspaceBytes: number} {
  const channels = g.inChannels, outChannels = g.outChannels;
  const multiplier = outChannels / channels;
  const taps = g.filterHeight * g.filterWidth;
  const depth = patchLength(g);
  const tileRows = depthwiseTileRows(g);
  const patch = new Float32Array(tileRows * depth);
  const inside = new Uint8Array(taps).fill(1);
  const rowsPerImage = g.outHeight * g.outWidth;
  const channelsLast = g.dataFormat === 'channelsLast';
  // Output channel o of flat row `row` is at out[at + o * step].
  const step = channelsLast ? 1 : rowsPerImage;
  for (const [row0, rows] of depthwiseTiles(g, tileRows)) {
    fillPatchRows(x, g, row0, rows, patch, 0, depth);
    for (let r = 0; r < rows; r++) {
      const row = row0 + r;
      const image = Math.floor(row / rowsPerImage);
      const at = channelsLast ? row * outChannels :
          image * outChannels * rowsPerImage + (row - image * rowsPerImage);
      const p = r * depth;
      if (skipPadding) {
        insideTaps(g, row, inside);
        for (let o = 0; o < outChannels; o++) {
          const c = (o / multiplier) | 0;
          let sum = 0;
          for (let t = 0; t < taps; t++) {
            if (inside[t] !== 0) sum += patch[p + t * channels + c] * filter[t * outChannels + o];
          }
          out[at + o * step] = sum;
        }
      } else if (multiplier === 1) {
        for (let c = 0; c < channels; c++) {
          let sum = 0;
          for (let t = 0, q = p + c, w = c; t < taps; t++, q += channels, w += channels) {
            sum += patch[q] * filter[w];
          }
          out[at + c * step] = sum;
        }
      } else {
        for (let o = 0; o < outChannels; o++) {
          let sum = 0;
          for (let t = 0, q = p + ((o / multiplier) | 0), w = o; t < taps;
               t++, q += channels, w += outChannels) {
            sum += patch[q] * filter[w];
          }
          out[at + o * step] = sum;
        }
      }
    }
    epilogue?.(out, row0, rows);
  }
  return {out, workspaceBytes: 4 * tileRows * depth};
}

/** The outChannels values of output position `row` (flat, as a patch row) of dy, into dyRow. */
export function readOutputRow(dy: Float32Array, g: ConvGeometry, row: number,
                              dyRow: Float32Array): void {
  const outChannels = g.outChannels;
  if (g.dataFormat === 'channelsLast') {
    for (let o = 0, at = row * outChannels; o < outChannels; o++) dyRow[o] = dy[at + o];
  } else {
    const rowsPerImage = g.outHeight * g.outWidth;
    const image = Math.floor(row / rowsPerImage);
    const at = image * outChannels * rowsPerImage + (row - image * rowsPerImage);
    for (let o = 0; o < outChannels; o++) dyRow[o] = dy[at + o * rowsPerImage];
  }
}

/**
 * The patch-matrix rows [row0, row0 + rows) of a transposed depthwise convolution (the
 * gradient of its patch matrix) from dy, into patch (row r at r * patchLength(g)).
 */
export function depthwisePatchGradient(dy: Float32Array, filter: Float32Array, g: ConvGeometry,
                                       row0: number, rows: number, patch: Float32Array): void {
  const channels = g.inChannels, outChannels = g.outChannels;
  const multiplier = outChannels / channels;
  const taps = g.filterHeight * g.filterWidth;
  const depth = taps * channels;
  const dyRow = new Float32Array(outChannels);
  for (let r = 0; r < rows; r++) {
    readOutputRow(dy, g, row0 + r, dyRow);
    let p = r * depth;
    for (let t = 0; t < taps; t++, p += channels) {
      const w = t * outChannels;
      if (multiplier === 1) {
        for (let c = 0; c < channels; c++) patch[p + c] = dyRow[c] * filter[w + c];
      } else {
        for (let c = 0, o = 0; c < channels; c++) {
          let sum = 0;
          for (let m = 0; m < multiplier; m++, o++) sum += dyRow[o] * filter[w + o];
          patch[p + c] = sum;
        }
      }
    }
  }
}

/**
 * A depthwise convolution on every thread of the pool, as threaded_conv.ts runs a plain one:
 * the input copied once into the shared memory and the filter laid out there as the
 * one-thread plan lays it (WasmChannelwisePlan), each ticket a block of output rows through
 * the module's im2col and channelwise product (mode 3), each finished block copied out and
 * through the epilogue on the calling thread while the others compute.
 */
import {cpuThreads, workspaceBytes as workspaceBudget} from '../../config';
import {ConvGeometry, patchLength, patchRowsPerTile} from '../../geometry';
import {countThreadedProduct} from '../../stats';
import type {TileEpilogue} from '../conv_im2col';
import {copyTileOut} from '../gemm/gemm_wasm';
import {Control, im2colWords, outputRuns} from './control';
import {abandonPool, threadPool} from './pool';
import {MIN_WORK_PER_INPUT, minThreadedWork, TICKETS_PER_THREAD} from './threaded_conv';

const roundUp = (value: number, multiple: number) => Math.ceil(value / multiple) * multiple;

/** Rows per ticket at most: the per-row work is small, so tickets are long. */
const MAX_TICKET_ROWS = 2048;

/**
 * The depthwise convolution of geometry g (a filter without Inf or NaN) on the pool's
 * threads into `out`, up to `microRows` patch rows at a time per thread (fewer where the
 * workspace budget, shared by the threads, asks); the patch workspace it
 * used (bytes), or undefined where the call stays on the calling thread (as
 * convolveThreaded).
 */
export function convolveDepthwiseThreaded(x: Float32Array, filter: Float32Array,
                                          g: ConvGeometry, out: Float32Array,
                                          microRows: number, epilogue?: TileEpilogue):
    number | undefined {
  const threads = cpuThreads();
  if (threads === 1) return undefined;
  const channels = g.inChannels, outChannels = g.outChannels;
  const multiplier = outChannels / channels;
  const taps = g.filterHeight * g.filterWidth;
  const rowsPerImage = g.outHeight * g.outWidth;
  const totalRows = g.batchSize * rowsPerImage;
  const work = totalRows * taps * outChannels;
  if (work < minThreadedWork || work < MIN_WORK_PER_INPUT * x.length) return undefined;
  // Every thread's patch rows together stay within the workspace budget.
  microRows = Math.min(microRows,
                       Math.floor(patchRowsPerTile(g, workspaceBudget()) / threads));
  if (microRows < 1) return undefined;
  const pool = threadPool(threads);
  if (pool === undefined) return undefined;
  const rowBlocksWanted = roundUp(Math.max(TICKETS_PER_THREAD * threads,
                                            Math.ceil(totalRows / MAX_TICKET_ROWS)), threads);
  const rowsPerTicket = roundUp(Math.ceil(totalRows / rowBlocksWanted), 4);
  const rowBlocks = Math.ceil(totalRows / rowsPerTicket);

  // Bytes: [control][kept packed filters][W: multiplier blocks of taps×cPad][x][C: rowsPerTicket + 4 rows per
  // block][A per thread][finished tickets per block].
  const cPad = roundUp(channels, 4);
  const ldc = multiplier * cPad;
  const wAt = pool.freeFrom;
  const xAt = roundUp(wAt + 4 * multiplier * taps * cPad, 16);
  const cAt = roundUp(xAt + 4 * x.length, 16);
  const blockFloats = (rowsPerTicket + 4) * ldc;
  const aAt = roundUp(cAt + 4 * rowBlocks * blockFloats, 16);
  // The product's last vector reads up to 3 floats past the last patch row.
  const aStride = roundUp(4 * (roundUp(microRows, 4) * taps * channels + 4), 16);
  const rowDoneAt = aAt + threads * aStride;
  const heap = pool.heap(rowDoneAt + 4 * rowBlocks);
  if (heap === undefined) return undefined;
  for (let j = 0; j < multiplier; j++) {
    for (let t = 0; t < taps; t++) {
      const to = wAt / 4 + (j * taps + t) * cPad, from = t * outChannels + j;
      for (let ch = 0; ch < channels; ch++) heap[to + ch] = filter[from + ch * multiplier];
      heap.fill(0, to + channels, to + cPad);
    }
  }
  heap.set(x, xAt / 4);

  const words: Array<[number, number]> = [
    [Control.MODE, 3], [Control.ROWS_PER_TICKET, rowsPerTicket], [Control.COLUMN_BLOCKS, 1],
    [Control.TOTAL_ROWS, totalRows], [Control.A, aAt], [Control.A_THREAD_STRIDE, aStride],
    [Control.B, wAt], [Control.C, cAt], [Control.LDC, ldc], ...im2colWords(g, xAt, channels),
    [Control.MICRO_ROWS, microRows], [Control.MULTIPLIER, multiplier],
  ];
  for (const [index, value] of words) pool.control[index] = value;

  const copyOut = (rowBlock: number) => {
    const first = rowBlock * rowsPerTicket, end = Math.min(totalRows, first + rowsPerTicket);
    const block = cAt / 4 + rowBlock * blockFloats;
    for (const [row0, rows, offset, rowStride, colStride] of outputRuns(
             first, end, rowsPerImage, outChannels, g.dataFormat === 'channelsLast')) {
      const at = block + (row0 - first) * ldc;
      if (multiplier === 1) {
        copyTileOut(heap, at, ldc, rows, channels, out, offset, rowStride, colStride);
      } else {
        // Block j of a C row holds output channels ch * multiplier + j.
        for (let i = 0; i < rows; i++) {
          const row = at + i * ldc, to = offset + i * rowStride;
          for (let ch = 0, o = to; ch < channels; ch++) {
            for (let j = 0; j < multiplier; j++, o += colStride) out[o] = heap[row + j * cPad + ch];
          }
        }
      }
      epilogue?.(out, row0, rows);
    }
  };
  if (!pool.run(rowBlocks, 1, rowDoneAt, copyOut)) {
    abandonPool(pool);
    return undefined;
  }
  if (pool.lastJobShared) countThreadedProduct(threads);
  return threads * 4 * microRows * patchLength(g);
}

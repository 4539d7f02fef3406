/**
 * A 2D convolution on every thread of the pool: the input is copied once into the shared
 * memory, the filter packed once there, and each ticket is a block of patch rows (times a
 * block of output columns where there are few rows) that the thread taking it im2cols into
 * its own A region and multiplies into the shared C, the whole product; the calling thread
 * then copies C out into the output's layout and runs the epilogue, tile by tile.
 */
import {cpuThreads, workspaceBytes as workspaceBudget} from '../../config';
import {ConvGeometry, patchLength} from '../../geometry';
import {countThreadedProduct} from '../../stats';
import type {TileEpilogue} from '../conv_im2col';
import {WASM_BLOCKING} from '../gemm/blocking.generated';
import {copyTileOut} from '../gemm/gemm_wasm';
import {Control, CONTROL_BYTES} from './control';
import {abandonPool, threadPool} from './pool';

const {MR, NR, tileRows: PREFERRED_TILE_ROWS} = WASM_BLOCKING;

/**
 * Multiply-adds below which a call stays on the calling thread: waking the workers and
 * copying the input and output through the shared memory cost more than they save there
 * (measured with bench/cpu.ts, see the README).
 */
export let minThreadedWork = 2 ** 21;

/** For tests: thread every call whatever its size (0), or restore the measured threshold. */
export function setMinThreadedWork(work: number): void {
  minThreadedWork = work;
}

const roundUp = (value: number, multiple: number) => Math.ceil(value / multiple) * multiple;

/** How a call's product is cut into tickets. */
export interface TicketPlan {
  rowsPerTicket: number;
  rowBlocks: number;
  columnsPerTicket: number;
  columnBlocks: number;
}

/**
 * Blocks of rows, a few per thread so that threads that start late or run slower even out;
 * where that leaves fewer blocks than threads (few output positions, as in deep layers),
 * blocks of output columns too, so each thread streams only its share of the filter.
 * Undefined where the budget leaves a thread less than one micro-kernel's rows.
 */
export function planTickets(rows: number, k: number, width: number, threads: number,
                            budgetBytes: number): TicketPlan | undefined {
  const budgetRows = Math.floor(budgetBytes / (4 * Math.max(1, k) * threads));
  const cap = Math.min(PREFERRED_TILE_ROWS, budgetRows);
  if (cap < MR) return undefined;
  const rowsPerTicket = Math.min(cap - cap % MR, roundUp(Math.ceil(rows / (4 * threads)), MR));
  const rowBlocks = Math.ceil(rows / rowsPerTicket);
  let columnBlocks = 1;
  if (rowBlocks < 2 * threads) {
    columnBlocks = Math.min(width / NR, Math.ceil(2 * threads / rowBlocks));
  }
  const columnsPerTicket = roundUp(Math.ceil(width / columnBlocks), NR);
  return {rowsPerTicket, rowBlocks, columnsPerTicket,
          columnBlocks: Math.ceil(width / columnsPerTicket)};
}

/**
 * The plain (ungrouped) 2D convolution of geometry g on the pool's threads, into `out`;
 * returns the patch workspace it used (bytes, every thread's A region), or undefined where
 * the call stays on the calling thread (one thread asked for, little work, no pool, a filter
 * with Inf or NaN, memory the pool cannot have, or a worker that failed during the call:
 * `out` is then untouched).
 */
export function convolveThreaded(x: Float32Array, filter: Float32Array, g: ConvGeometry,
                                 out: Float32Array, epilogue?: TileEpilogue): number | undefined {
  const threads = cpuThreads();
  if (threads === 1) return undefined;
  const k = patchLength(g), n = g.outChannels;
  const rowsPerImage = g.outHeight * g.outWidth;
  const totalRows = g.batchSize * rowsPerImage;
  if (totalRows * k * n < minThreadedWork) return undefined;
  const width = roundUp(n, NR);
  const plan = planTickets(totalRows, k, width, threads, workspaceBudget());
  if (plan === undefined) return undefined;
  const pool = threadPool(threads);
  if (pool === undefined) return undefined;

  // Bytes: [control][packed B][x (the filter as given, while it is packed)][C][A per thread].
  const bAt = CONTROL_BYTES;
  const xAt = roundUp(bAt + 4 * k * width, 16);
  const cAt = roundUp(xAt + 4 * x.length, 16);
  const aAt = roundUp(cAt + 4 * roundUp(totalRows, MR) * width, 16);
  const aStride = roundUp(4 * roundUp(plan.rowsPerTicket, MR) * k, 16);
  const heap = pool.heap(Math.max(aAt + threads * aStride, xAt + 4 * k * n));
  if (heap === undefined) return undefined;
  heap.set(filter.length === k * n ? filter : filter.subarray(0, k * n), xAt / 4);
  if (pool.exports.packB(xAt, n, bAt, k, n, width) !== 0) return undefined;
  heap.set(x, xAt / 4);

  const channelsLast = g.dataFormat === 'channelsLast';
  const {inHeight, inWidth, inChannels} = g;
  const words: Array<[number, number]> = [
    [Control.MODE, 1], [Control.ROWS_PER_TICKET, plan.rowsPerTicket],
    [Control.COLUMN_BLOCKS, plan.columnBlocks], [Control.COLUMNS_PER_TICKET, plan.columnsPerTicket],
    [Control.TOTAL_ROWS, totalRows], [Control.A, aAt], [Control.A_THREAD_STRIDE, aStride],
    [Control.LDA, k], [Control.B, bAt], [Control.C, cAt], [Control.LDC, width], [Control.K, k],
    [Control.N, width], [Control.X, xAt], [Control.IMAGE_STEP, inHeight * inWidth * inChannels],
    [Control.ROW_STEP, channelsLast ? inWidth * inChannels : inWidth],
    [Control.COL_STEP, channelsLast ? inChannels : 1],
    // One channel in NCHW lies like NHWC: its columns are contiguous.
    [Control.CHANNEL_STEP, channelsLast || inChannels === 1 ? 1 : inHeight * inWidth],
    [Control.IN_HEIGHT, inHeight], [Control.IN_WIDTH, inWidth], [Control.IN_CHANNELS, inChannels],
    [Control.OUT_HEIGHT, g.outHeight], [Control.OUT_WIDTH, g.outWidth],
    [Control.FILTER_HEIGHT, g.filterHeight], [Control.FILTER_WIDTH, g.filterWidth],
    [Control.STRIDE_HEIGHT, g.strideHeight], [Control.STRIDE_WIDTH, g.strideWidth],
    [Control.DILATION_HEIGHT, g.dilationHeight], [Control.DILATION_WIDTH, g.dilationWidth],
    [Control.PAD_TOP, g.padInfo.top], [Control.PAD_LEFT, g.padInfo.left],
  ];
  for (const [index, value] of words) pool.control[index] = value;
  if (!pool.run(plan.rowBlocks * plan.columnBlocks)) {
    abandonPool(pool);
    return undefined;
  }

  // C holds every row; out gets it tile by tile, each followed by its epilogue while in cache.
  const c = cAt / 4;
  for (let row0 = 0, rows = 0; row0 < totalRows; row0 += rows) {
    if (channelsLast) {
      rows = Math.min(PREFERRED_TILE_ROWS, totalRows - row0);
      copyTileOut(heap, c + row0 * width, width, rows, n, out, row0 * n, n, 1);
    } else {
      const image = Math.floor(row0 / rowsPerImage), position = row0 - image * rowsPerImage;
      rows = Math.min(PREFERRED_TILE_ROWS, rowsPerImage - position);
      copyTileOut(heap, c + row0 * width, width, rows, n, out,
                  image * n * rowsPerImage + position, 1, rowsPerImage);
    }
    epilogue?.(out, row0, rows);
  }
  if (pool.lastJobShared) countThreadedProduct(threads);
  return threads * plan.rowsPerTicket * k * 4;
}

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
import {Control, im2colWords, outputRuns} from './control';
import {abandonPool, threadPool} from './pool';

const {MR, NR, tileRows: PREFERRED_TILE_ROWS} = WASM_BLOCKING;

/**
 * Multiply-adds below which a call stays on the calling thread: waking the workers and
 * copying the input and output through the shared memory cost more than they save there
 * (measured with bench/cpu.ts, see the README).
 */
export let minThreadedWork = 2 ** 21;

/**
 * Multiply-adds per input value below which a call stays on the calling thread: the input is
 * copied into the shared memory before any thread starts, which a layer this light (a
 * strided depthwise one, say) does not earn back (measured with bench/cpu.ts).
 */
export const MIN_WORK_PER_INPUT = 4;

/** For tests: thread every call whatever its size (0), or restore the measured threshold. */
export function setMinThreadedWork(work: number): void {
  minThreadedWork = work;
}

const roundUp = (value: number, multiple: number) => Math.ceil(value / multiple) * multiple;

/** How a call's product is cut into tickets: blocks of rows times blocks of columns. */
export interface TicketPlan {
  rowsPerTicket: number;
  rowBlocks: number;
  columnsPerTicket: number;
  columnBlocks: number;
}

/** Tickets per thread a call is cut into at least, so threads that lag even out. */
export const TICKETS_PER_THREAD = 3;

/**
 * The cut of an m×k by k×width product into tickets, at least TICKETS_PER_THREAD per thread
 * where the rows allow, that moves the least memory: every block of rows streams the packed
 * B's columns of its tickets, every block of columns makes (or reads) its rows of A again. So
 * tall products (many output positions) split over rows alone, and deep layers with few
 * positions and wide filters over columns too. Rows per ticket are a multiple of MR (the
 * micro-kernel writes whole MR-row blocks of C) and at most what the workspace budget gives
 * each thread; undefined where that is less than MR.
 */
export function planTickets(m: number, k: number, width: number, threads: number,
                            budgetBytes: number): TicketPlan | undefined {
  const budgetRows = Math.floor(budgetBytes / (4 * Math.max(1, k) * threads));
  const cap = Math.min(PREFERRED_TILE_ROWS, budgetRows);
  if (cap < MR) return undefined;
  const maxRows = cap - cap % MR;
  const wanted = TICKETS_PER_THREAD * threads;
  const panels = width / NR;
  let best: TicketPlan | undefined, bestCost = Infinity;
  for (let columnBlocks = 1; columnBlocks <= panels; columnBlocks++) {
    const columnsPerTicket = Math.ceil(panels / columnBlocks) * NR;
    if (columnBlocks > 1 && columnsPerTicket * (columnBlocks - 1) >= width) continue;
    // As many row blocks as the rows per ticket allow, rounded up to whole rounds of
    // tickets over the threads, so no thread is left with one ticket more than another.
    let rowBlocks = Math.max(Math.ceil(wanted / columnBlocks), Math.ceil(m / maxRows));
    rowBlocks = Math.min(Math.ceil(m / MR),
        roundUp(rowBlocks * columnBlocks, threads) / columnBlocks | 0 || rowBlocks);
    const rowsPerTicket = Math.min(maxRows, roundUp(Math.ceil(m / rowBlocks), MR));
    rowBlocks = Math.ceil(m / rowsPerTicket);
    const cost = rowBlocks * k * width + columnBlocks * m * k;
    const enough = rowBlocks * columnBlocks >= wanted;
    const bestEnough = best !== undefined && best.rowBlocks * best.columnBlocks >= wanted;
    if (best === undefined || (enough && !bestEnough) || (enough === bestEnough && cost < bestCost)) {
      best = {rowsPerTicket, rowBlocks, columnsPerTicket, columnBlocks};
      bestCost = cost;
    }
  }
  return best;
}

/**
 * The plain (ungrouped) 2D convolution of geometry g on the pool's threads, into `out`;
 * returns the patch workspace it used (bytes, every thread's A region), or undefined where
 * the call stays on the calling thread (one thread asked for, little work, no pool, a filter
 * with Inf or NaN, memory the pool cannot have, or a worker that failed during the call:
 * `out` is then untouched).
 */
export function convolveThreaded(x: Float32Array, filter: Float32Array, g: ConvGeometry,
                                 out: Float32Array, epilogue?: TileEpilogue,
                                 filterKey?: object): number | undefined {
  const threads = cpuThreads();
  if (threads === 1) return undefined;
  const k = patchLength(g), n = g.outChannels;
  const rowsPerImage = g.outHeight * g.outWidth;
  const totalRows = g.batchSize * rowsPerImage;
  const work = totalRows * k * n;
  if (work < minThreadedWork || work < MIN_WORK_PER_INPUT * x.length) return undefined;
  const width = roundUp(n, NR);
  const plan = planTickets(totalRows, k, width, threads, workspaceBudget());
  if (plan === undefined) return undefined;
  const pool = threadPool(threads);
  if (pool === undefined) return undefined;

  // Bytes: [control][kept packed filters][packed B, unless kept][x (the filter as given,
  // while it is packed)][C][A per thread][finished tickets per row block].
  const bBytes = 4 * k * width;
  let kept = filterKey === undefined ? undefined : pool.packedFilter(filterKey, k, n, width);
  const keepAt = kept === undefined && filterKey !== undefined ?
      pool.roomForFilter(bBytes) : undefined;
  const bAt = kept?.at ?? keepAt ?? pool.freeFrom;
  const xAt = roundUp(kept !== undefined ? pool.freeFrom : bAt + bBytes, 16);
  const cAt = roundUp(xAt + 4 * x.length, 16);
  const aAt = roundUp(cAt + 4 * roundUp(totalRows, MR) * width, 16);
  const aStride = roundUp(4 * roundUp(plan.rowsPerTicket, MR) * k, 16);
  const rowDoneAt = aAt + threads * aStride;
  const heap = pool.heap(Math.max(rowDoneAt + 4 * plan.rowBlocks, xAt + 4 * k * n));
  if (heap === undefined) return undefined;
  if (kept === undefined) {
    heap.set(filter.length === k * n ? filter : filter.subarray(0, k * n), xAt / 4);
    const hasNonFinite = pool.exports.packB(xAt, n, bAt, k, n, width) !== 0;
    if (keepAt !== undefined) {
      kept = {at: keepAt, k, n, width, hasNonFinite};
      pool.keepFilter(filterKey!, kept, bBytes);
    }
    if (hasNonFinite) return undefined;
  } else if (kept.hasNonFinite) {
    return undefined;
  }
  heap.set(x, xAt / 4);

  const words: Array<[number, number]> = [
    [Control.MODE, 1], [Control.ROWS_PER_TICKET, plan.rowsPerTicket],
    [Control.COLUMN_BLOCKS, plan.columnBlocks], [Control.COLUMNS_PER_TICKET, plan.columnsPerTicket],
    [Control.TOTAL_ROWS, totalRows], [Control.A, aAt], [Control.A_THREAD_STRIDE, aStride],
    [Control.LDA, k], [Control.B, bAt], [Control.C, cAt], [Control.LDC, width], [Control.K, k],
    [Control.N, width], ...im2colWords(g, xAt, g.inChannels),
  ];
  for (const [index, value] of words) pool.control[index] = value;
  // Each block of rows goes out to the output's layout, then through the epilogue, as soon
  // as all its tickets are done, while the other threads still compute.
  const c = cAt / 4;
  const copyOut = (rowBlock: number) => {
    const end = Math.min(totalRows, (rowBlock + 1) * plan.rowsPerTicket);
    for (const [row0, rows, offset, rowStride, colStride] of outputRuns(
             rowBlock * plan.rowsPerTicket, end, rowsPerImage, n,
             g.dataFormat === 'channelsLast')) {
      copyTileOut(heap, c + row0 * width, width, rows, n, out, offset, rowStride, colStride);
      epilogue?.(out, row0, rows);
    }
  };
  if (!pool.run(plan.rowBlocks, plan.columnBlocks, rowDoneAt, copyOut)) {
    abandonPool(pool);
    return undefined;
  }
  if (pool.lastJobShared) countThreadedProduct(threads);
  return threads * plan.rowsPerTicket * k * 4;
}

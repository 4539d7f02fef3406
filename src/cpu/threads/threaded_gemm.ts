/**
 * The GEMM on the pool's threads, behind the one GEMM interface (gemm/gemm.ts), so every CPU
 * path that multiplies tiles (the transposed convolutions and input gradients, the filter
 * gradients, 3D and grouped convolutions) splits each tile's product over the threads: the
 * plan lives in the pool's shared memory, and `multiply` hands its rows (or, for few rows,
 * its output columns) to every thread as tickets of the threaded module's work loop (mode
 * 0: A already in memory). The patch source still fills A, and col2im still scatters, on the
 * calling thread. Plain 2D convolutions take the fully threaded path (threaded_conv.ts).
 */
import {WASM_BLOCKING} from '../gemm/blocking.generated';
import type {Gemm, GemmEpilogue, GemmPlan} from '../gemm/gemm';
import {copyTileOut, registerWasmMemory, wasmGemm} from '../gemm/gemm_wasm';
import {countThreadedProduct} from '../../stats';
import {Control} from './control';
import {abandonPool, threadPool, ThreadPool} from './pool';
import {minThreadedWork, planTickets} from './threaded_conv';

const {MR, NR, tileRows: PREFERRED_TILE_ROWS} = WASM_BLOCKING;
const roundUp = (value: number, multiple: number) => Math.ceil(value / multiple) * multiple;

/**
 * Where a plan's regions go, in floats from `base` (the pool's free memory): [packed B:
 * k×width][scratch][A: tileRows×k][C: tileRows×width][finished tickets per row block, at
 * most one per row]. B as given is staged at the scratch while it is packed, as in the
 * one-thread plan; `floats` covers that too.
 */
function planLayout(base: number, k: number, n: number, maxRows: number, extraFloats: number) {
  const width = roundUp(n, NR), tileRows = roundUp(maxRows, MR);
  const bStaged = base + k * width;
  const aOffset = roundUp(bStaged + extraFloats, 4);
  const cAt = roundUp(aOffset + tileRows * k, 4);
  const rowDoneAt = cAt + tileRows * width;
  return {width, bPacked: base, bStaged, aOffset, cAt, rowDoneAt,
          floats: Math.max(rowDoneAt + tileRows, bStaged + k * n + 4)};
}

class ThreadedGemmPlan implements GemmPlan {
  readonly a: Float32Array;
  readonly aOffset: number;
  readonly lda: number;
  readonly scratch: Float32Array;
  readonly scratchOffset: number;
  readonly filterHasNonFinite: boolean;
  private readonly width: number;
  private readonly cAt: number;
  /** Where the packed B starts, in floats. */
  private readonly bPacked: number;
  /** Room for the job's finished-ticket count per row block. */
  private readonly rowDoneAt: number;
  /** Whether a tile of this plan ran on more than one thread (it is counted once). */
  private threaded = false;

  constructor(private readonly pool: ThreadPool, private readonly heap: Float32Array,
              layout: ReturnType<typeof planLayout>, b: Float32Array, bOffset: number,
              ldb: number, readonly k: number, readonly n: number) {
    ({width: this.width, bPacked: this.bPacked, aOffset: this.aOffset, cAt: this.cAt,
      rowDoneAt: this.rowDoneAt} = layout);
    this.scratchOffset = layout.bStaged;
    this.lda = k;
    this.a = this.scratch = heap;
    const bLength = k === 0 ? 0 : (k - 1) * ldb + n;
    heap.set(bOffset === 0 && bLength === b.length ? b : b.subarray(bOffset, bOffset + bLength),
             layout.bStaged);
    this.filterHasNonFinite = pool.exports.packB(4 * layout.bStaged, ldb, 4 * this.bPacked, k,
                                                 n, this.width) !== 0;
  }

  multiply(m: number, a: Float32Array, aOffset: number, lda: number, c: Float32Array,
           cOffset: number, rs: number, cs: number, epilogue?: GemmEpilogue): void {
    const {heap, pool, cAt, width, n, k} = this;
    let aAddress: number;
    if (a === heap) {
      aAddress = 4 * aOffset;
    } else {
      for (let i = 0; i < m; i++) {
        heap.set(a.subarray(aOffset + i * lda, aOffset + i * lda + k), this.aOffset + i * k);
      }
      aAddress = 4 * this.aOffset;
      lda = k;
    }
    const plan = m * k * n >= minThreadedWork ?
        planTickets(m, k, width, pool.threads, Infinity) : undefined;
    const copyOut = (row0: number, rows: number) =>
        copyTileOut(heap, cAt + row0 * width, width, rows, n, c, cOffset + row0 * rs, rs, cs);
    let ran = false;
    if (plan !== undefined) {
      const words: Array<[number, number]> = [
        [Control.MODE, 0], [Control.ROWS_PER_TICKET, plan.rowsPerTicket],
        [Control.COLUMN_BLOCKS, plan.columnBlocks],
        [Control.COLUMNS_PER_TICKET, plan.columnsPerTicket], [Control.TOTAL_ROWS, m],
        [Control.A, aAddress], [Control.LDA, lda], [Control.B, 4 * this.bPacked],
        [Control.C, 4 * cAt], [Control.LDC, width], [Control.K, k], [Control.N, width]];
      for (const [index, value] of words) pool.control[index] = value;
      const {rowsPerTicket} = plan;
      ran = pool.run(plan.rowBlocks, plan.columnBlocks, 4 * this.rowDoneAt, rowBlock => copyOut(
          rowBlock * rowsPerTicket, Math.min(rowsPerTicket, m - rowBlock * rowsPerTicket)));
      if (!ran) {
        abandonPool(pool);
      } else if (!this.threaded && pool.lastJobShared) {
        this.threaded = true;
        countThreadedProduct(pool.threads);
      }
    }
    if (!ran) {
      pool.exports.gemm(aAddress, lda, 4 * this.bPacked, 4 * cAt, width, roundUp(m, MR), k, width);
      copyOut(0, m);
    }
    epilogue?.(c, cOffset, m);
  }
}

/**
 * The GEMM for IM2COL_CPU_THREADS = threads: tiles `threads` times the one-thread size, each
 * split over the threads; where the pool cannot be had or cannot hold a call's plan, the
 * one-thread wasm GEMM.
 */
export function threadedGemm(threads: number): Gemm {
  return {
    name: 'wasm',
    preferredTileRows: PREFERRED_TILE_ROWS * threads,
    prepare(b, bOffset, ldb, k, n, maxRows, extraFloats = 0) {
      // No tile of this call can reach the threshold: the one-thread plan, as cheap as before.
      if (maxRows * k * n < minThreadedWork) {
        return wasmGemm.prepare(b, bOffset, ldb, k, n, maxRows, extraFloats);
      }
      const pool = threadPool(threads);
      const layout = pool && planLayout(pool.freeFrom / 4, k, n, maxRows, extraFloats);
      const heap = layout && pool!.heap(4 * layout.floats);
      if (pool === undefined || layout === undefined || heap === undefined) {
        return wasmGemm.prepare(b, bOffset, ldb, k, n, maxRows, extraFloats);
      }
      registerWasmMemory(heap, pool.exports);
      return new ThreadedGemmPlan(pool, heap, layout, b, bOffset, ldb, k, n);
    }
  };
}

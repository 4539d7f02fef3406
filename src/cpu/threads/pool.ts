/**
 * The CPU kernels' worker threads: a pool of workers (worker_threads in Node, Web Workers in
 * browsers) that share one WebAssembly.Memory with the calling thread, each running the
 * threaded GEMM module's work loop on it. A job is a set of tickets (blocks of the product,
 * gemm/wasm/threads.wat) that every thread, the caller included, takes until none are left;
 * the caller then waits for the last one to finish: Atomics.wait where the thread may block
 * (Node, workers), a spin on a browser page's main thread (where it may not). Kernels stay
 * synchronous: nothing here awaits.
 *
 * Created on the first call that wants more than one thread, sized by IM2COL_CPU_THREADS and
 * made again when the flag changes. Degrades rather than breaks: where a pool cannot be made
 * (no SharedArrayBuffer, a page that forbids Blob workers, no shared memory) or a worker fails
 * or stops (an error, an exit, a ticket held past STALL_MS), one warning, and the calls run on
 * the calling thread until disposeIm2colThreads().
 */
import {warnOnce} from '../../state';
import {decodeBase64, describeError} from '../gemm/gemm_wasm';
import {THREADED_MAX_PAGES, WASM_THREADS_BASE64} from '../gemm/wasm/gemm_wat.generated';
import {Control, CONTROL_BYTES} from './control';
import {workerSource} from './worker_source';

/** The threaded build's exports the calling thread uses (workers use runTickets alone). */
export interface ThreadedExports {
  memory: WebAssembly.Memory;
  packB(src: number, ldb: number, dst: number, k: number, n: number, width: number): number;
  gemm(a: number, lda: number, b: number, c: number, ldc: number, m: number, k: number,
       n: number): void;
  runTickets(control: number, thread: number, most: number): number;
}

const PAGE_BYTES = 65536;
/** The shared memory's maximum, as the threaded module declares it. */
export const THREADED_MAX_BYTES = THREADED_MAX_PAGES * PAGE_BYTES;

/**
 * How long the caller waits for a ticket that makes no progress before it gives the workers
 * up: far above any one ticket's work, so only a dead or stuck worker reaches it.
 */
const STALL_MS = 2000;

/** Packed filters kept for later calls, bytes at most. */
const PACKED_FILTERS_MAX_BYTES = 256 * 2 ** 20;

/** A filter packed for the threads' GEMM, at byte `at` of the shared memory. */
export interface PackedFilter {
  at: number;
  k: number;
  n: number;
  width: number;
  hasNonFinite: boolean;
}

/** How long the caller spins for the others' tickets before it sleeps, in milliseconds. */
const SPIN_MS = 1;

/** How long a new pool waits for its workers to start, where it may wait. */
const START_MS = 1000;

interface WorkerHandle {
  terminate(): void;
}

interface NodeWorker extends WorkerHandle {
  unref(): void;
  on(event: 'error' | 'exit', listener: (value: unknown) => void): void;
}

interface Host {
  process?: {versions?: {node?: string}, getBuiltinModule?: (name: string) => unknown};
  Worker?: new (url: string) => WorkerHandle & {
    postMessage(message: unknown): void;
    onerror: ((event: {message?: string}) => void) | null;
  };
}

let threadedModule: WebAssembly.Module | undefined;

const now = () => typeof performance === 'object' ? performance.now() : Date.now();

export class ThreadPool {
  readonly memory: WebAssembly.Memory;
  readonly exports: ThreadedExports;
  readonly control: Int32Array;
  private readonly next: BigInt64Array;
  private readonly workers: WorkerHandle[] = [];
  private readonly blobUrl: string | undefined;
  /** Whether this thread may block in Atomics.wait (not a browser page's main thread). */
  private readonly canBlock: boolean;
  private view: Float32Array;
  private disposed = false;
  /** Why the pool cannot be used any more (set by a worker's error or exit, or a stall). */
  failure: string | undefined;
  /**
   * Filters packed for the threads, kept for the next call with the same filter tensor (its
   * dataId: tfjs tensors never change their values), as tfjs's wasm backend keeps XNNPACK's
   * packed weights. They sit from CONTROL_BYTES to `freeFrom`; a call's own regions start
   * at `freeFrom`. When they would pass PACKED_FILTERS_MAX_BYTES they are all dropped.
   */
  private packedFilters = new WeakMap<object, PackedFilter>();
  /** The first byte past the kept filters: where a call's own regions may start. */
  freeFrom = CONTROL_BYTES;

  /**
   * Whether another thread took a ticket of the last job: workers start asynchronously (a
   * page's only once its main thread is free), and the caller does every ticket of a job
   * that none has joined; such a job did not run on more than one thread.
   */
  lastJobShared = false;

  /** Throws where a pool cannot be made here (the caller warns and stays on one thread). */
  constructor(readonly threads: number) {
    if (typeof SharedArrayBuffer === 'undefined') {
      throw new Error('SharedArrayBuffer is unavailable (a page must be cross-origin isolated)');
    }
    threadedModule ??= new WebAssembly.Module(decodeBase64(WASM_THREADS_BASE64));
    this.memory = new WebAssembly.Memory(
        {initial: 1, maximum: THREADED_MAX_PAGES, shared: true});
    this.exports = new WebAssembly.Instance(threadedModule, {env: {memory: this.memory}})
                       .exports as unknown as ThreadedExports;
    this.view = new Float32Array(this.memory.buffer);
    this.control = new Int32Array(this.memory.buffer, 0, CONTROL_BYTES / 4);
    this.next = new BigInt64Array(this.memory.buffer, 0, CONTROL_BYTES / 8);
    try {
      Atomics.wait(this.control, Control.GENERATION, -1, 0);
      this.canBlock = true;
    } catch {
      this.canBlock = false;
    }
    const host = globalThis as Host;
    const source = workerSource();
    try {
      if (host.process?.versions?.node != null) {
        const threads = host.process.getBuiltinModule?.('worker_threads') as
            {Worker: new (source: string, options: object) => NodeWorker} | undefined;
        if (threads == null) throw new Error('this Node has no process.getBuiltinModule');
        for (let index = 1; index < this.threads; index++) {
          const worker = new threads.Worker(source, {
            eval: true, workerData: {module: threadedModule, memory: this.memory, index}
          });
          // Idle workers never keep the process alive.
          worker.unref();
          worker.on('error', error => this.fail(`a worker thread failed (${describeError(error)})`));
          worker.on('exit', code => this.fail(`a worker thread exited (code ${code})`));
          this.workers.push(worker);
        }
      } else {
        if (host.Worker == null) throw new Error('this engine has no Web Workers');
        this.blobUrl = URL.createObjectURL(new Blob([source], {type: 'text/javascript'}));
        for (let index = 1; index < this.threads; index++) {
          const worker = new host.Worker(this.blobUrl);
          worker.onerror = event =>
              this.fail(`a worker thread failed (${event.message ?? 'no message'})`);
          worker.postMessage({module: threadedModule, memory: this.memory, index});
          this.workers.push(worker);
        }
      }
    } catch (error) {
      this.dispose();
      throw error;
    }
    // Where this thread may block (Node), the workers get a moment to start, so the first
    // call already shares its work; a page's workers start only once its main thread is free.
    if (this.canBlock) {
      const deadline = now() + START_MS;
      for (let ready = 0; (ready = this.readyWorkers()) < threads - 1 && now() < deadline;) {
        Atomics.wait(this.control, Control.READY, ready, 20);
      }
    }
  }

  private fail(reason: string): void {
    if (!this.disposed) this.failure ??= reason;
  }

  /** Workers that have started and take tickets. */
  readyWorkers(): number {
    return Atomics.load(this.control, Control.READY);
  }

  /** The packed filter kept for `key` with these sizes, if any. */
  packedFilter(key: object, k: number, n: number, width: number): PackedFilter | undefined {
    const kept = this.packedFilters.get(key);
    return kept !== undefined && kept.k === k && kept.n === n && kept.width === width ?
        kept : undefined;
  }

  /**
   * Room for a packed filter of `bytes` that will be kept for `key` (the caller packs it
   * there and calls keepFilter); undefined where it cannot be had (the caller packs it
   * among its own regions instead).
   */
  roomForFilter(bytes: number): number | undefined {
    if (bytes > PACKED_FILTERS_MAX_BYTES / 4) return undefined;
    if (this.freeFrom + bytes > CONTROL_BYTES + PACKED_FILTERS_MAX_BYTES) {
      this.packedFilters = new WeakMap();
      this.freeFrom = CONTROL_BYTES;
    }
    return this.freeFrom;
  }

  keepFilter(key: object, filter: PackedFilter, bytes: number): void {
    this.packedFilters.set(key, filter);
    this.freeFrom = Math.ceil((filter.at + bytes) / 64) * 64;
  }

  /** The memory as floats, with at least `bytes`; undefined where it cannot grow so far. */
  heap(bytes: number): Float32Array | undefined {
    if (bytes > THREADED_MAX_BYTES) return undefined;
    const have = this.memory.buffer.byteLength;
    if (have < bytes) {
      try {
        this.memory.grow(Math.ceil((bytes - have) / PAGE_BYTES));
      } catch {
        return undefined;
      }
    }
    if (this.view.length * 4 !== this.memory.buffer.byteLength) {
      this.view = new Float32Array(this.memory.buffer);
    }
    return this.view;
  }

  /**
   * Runs the job whose words the caller wrote into `control`, as rowBlocks × columnBlocks
   * tickets, on every thread; `onRows(rowBlock)` is called for each block of rows, in order,
   * once all its tickets are done, on this thread, between its own tickets and while it
   * waits, so copying results out overlaps the others' work. `rowDoneAt`: bytes for an i32
   * per row block, free for the job. True once every block is through onRows; false where a
   * worker held a ticket past STALL_MS (the pool has then failed and the caller computes the
   * call again on its own).
   */
  run(rowBlocks: number, columnBlocks: number, rowDoneAt: number,
      onRows: (rowBlock: number) => void): boolean {
    const {control} = this;
    const tickets = rowBlocks * columnBlocks;
    const rowDone = new Int32Array(this.memory.buffer, rowDoneAt, rowBlocks);
    rowDone.fill(0);
    control[Control.ROW_DONE] = rowDoneAt;
    jobsRun++;
    // The ticket counter is stored last but one: a thread that takes a ticket from it sees
    // every word written before.
    Atomics.store(control, Control.DONE, 0);
    Atomics.store(this.next, Control.NEXT / 2, BigInt(tickets) << BigInt(32));
    Atomics.add(control, Control.GENERATION, 1);
    Atomics.notify(control, Control.GENERATION);
    let copied = 0;
    const flush = () => {
      while (copied < rowBlocks && Atomics.load(rowDone, copied) === columnBlocks) {
        onRows(copied++);
      }
    };
    let complete = false, own = 0;
    try {
      for (; this.exports.runTickets(0, 0, 1) === 1; own++) flush();
      this.lastJobShared = own < tickets;
      complete = this.waitFor(() => {
        flush();
        return copied === rowBlocks;
      });
    } finally {
      // An onRows that threw: no new job may start while threads still hold this one's tickets.
      if (!complete && this.failure === undefined) {
        this.waitFor(() => Atomics.load(control, Control.DONE) === tickets);
      }
    }
    return complete;
  }

  /**
   * Waits until `finished()` (asked again whenever a ticket finishes, and now and then);
   * false where no ticket finished for STALL_MS (the pool is then failed).
   */
  private waitFor(finished: () => boolean): boolean {
    const {control} = this;
    let done = Atomics.load(control, Control.DONE);
    let progress = now();
    const spinUntil = progress + SPIN_MS;
    for (let spins = 0; !finished(); spins++) {
      // A sleeping thread wakes a tenth of a millisecond late: spin a while first.
      if (this.canBlock && now() > spinUntil) {
        Atomics.wait(control, Control.DONE, done, 10);
      } else if ((spins & 1023) !== 1023) {
        continue;
      }
      const seen = Atomics.load(control, Control.DONE);
      if (seen !== done) {
        done = seen;
        progress = now();
      } else if (now() - progress > STALL_MS) {
        this.fail(`a worker thread held its share of a call for over ${STALL_MS} ms`);
        return false;
      }
    }
    return true;
  }

  dispose(): void {
    this.disposed = true;
    for (const worker of this.workers) worker.terminate();
    this.workers.length = 0;
    if (this.blobUrl !== undefined) URL.revokeObjectURL(this.blobUrl);
  }
}

let pool: ThreadPool | undefined;
let jobsRun = 0;
/** Why threads are off until disposeIm2colThreads(); undefined while they may run. */
let disabled: string | undefined;

function disable(reason: string): void {
  disabled = reason;
  pool?.dispose();
  pool = undefined;
  warnOnce('threads', `tfjs-im2col: the CPU kernels run on one thread: ${reason}. ` +
      'disposeIm2colThreads() lets them try worker threads again.');
}

/**
 * The pool for `threads` threads (made, or made again for a new count, here), or undefined
 * where the call runs on the calling thread: one thread asked for, or threads failed.
 */
export function threadPool(threads: number): ThreadPool | undefined {
  if (threads <= 1 || disabled !== undefined) return undefined;
  if (pool?.failure !== undefined) {
    disable(pool.failure);
    return undefined;
  }
  if (pool !== undefined && pool.threads !== threads) {
    pool.dispose();
    pool = undefined;
  }
  if (pool === undefined) {
    try {
      pool = new ThreadPool(threads);
    } catch (error) {
      disable(`worker threads cannot start here (${describeError(error)})`);
      return undefined;
    }
  }
  return pool;
}

/** Gives the pool up after `pool.run` returned false (warns once). */
export function abandonPool(failed: ThreadPool): void {
  disable(failed.failure ?? 'a worker thread failed');
}

/**
 * Ends the CPU kernels' worker threads and frees their memory; the next call that wants
 * threads starts new ones, also after a failure turned them off.
 */
export function disposeIm2colThreads(): void {
  pool?.dispose();
  pool = undefined;
  disabled = undefined;
}

/** Jobs handed to a pool so far in this realm (for tests: resetKernelStats leaves it). */
export function threadedJobsRun(): number {
  return jobsRun;
}

/** The pool now running, if any (for tests and benchmarks). */
export function currentThreadPool(): ThreadPool | undefined {
  return pool;
}

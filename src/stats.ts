/**
 * Counters that show which of this package's kernels ran and how large their im2col
 * workspace got. Cheap enough to stay on; tests and users read them to confirm that a
 * model really ran on im2col.
 */
import {state} from './state';

export interface KernelStats {
  /** Calls per kernel, keyed `${kernelName}/${backendName}`. */
  calls: Record<string, number>;
  /**
   * Calls a stand-in handed to the backend's own kernel because it runs them faster (the wasm
   * backend's XNNPACK forward kernels), keyed like `calls`; not counted in `calls`.
   */
  handedToBackend: Record<string, number>;
  /** The largest patch-matrix workspace of one kernel call, in bytes. */
  peakWorkspaceBytes: number;
  /**
   * Products (a convolution's GEMM, or one group's or one pass's of it) that ran on more than
   * one thread (IM2COL_CPU_THREADS).
   */
  threadedProducts: number;
}

function count(counters: Map<string, Map<string, number>>, kernelName: string,
               backendName: string): void {
  // Nested maps, so counting builds no string; in the state every copy of the package shares.
  let perBackend = counters.get(kernelName);
  if (perBackend === undefined) counters.set(kernelName, perBackend = new Map());
  perBackend.set(backendName, (perBackend.get(backendName) ?? 0) + 1);
}

export function countKernelCall(kernelName: string, backendName: string, workspaceBytes: number):
    void {
  count(state.calls, kernelName, backendName);
  if (workspaceBytes > state.peakWorkspaceBytes) state.peakWorkspaceBytes = workspaceBytes;
}

/** Counts a product that ran on `threads` threads (KernelStats.threadedProducts). */
export function countThreadedProduct(threads: number): void {
  if (threads > 1) state.threadedProducts++;
}

/** Counts a stand-in's call that the backend's own kernel ran (KernelStats.handedToBackend). */
export function countHandedCall(kernelName: string, backendName: string): void {
  count(state.handedCalls, kernelName, backendName);
}

function snapshot(counters: Map<string, Map<string, number>>): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const [kernelName, perBackend] of counters) {
    for (const [backendName, n] of perBackend) counts[`${kernelName}/${backendName}`] = n;
  }
  return counts;
}

/** A snapshot of the counters. */
export function kernelStats(): KernelStats {
  return {calls: snapshot(state.calls), handedToBackend: snapshot(state.handedCalls),
          peakWorkspaceBytes: state.peakWorkspaceBytes, threadedProducts: state.threadedProducts};
}

export function resetKernelStats(): void {
  state.calls.clear();
  state.handedCalls.clear();
  state.peakWorkspaceBytes = 0;
  state.threadedProducts = 0;
}

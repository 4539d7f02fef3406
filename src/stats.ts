/**
 * Counters that show which of this package's kernels ran and how large their im2col
 * workspace got. Cheap enough to stay on; tests and users read them to confirm that a
 * model really ran on im2col.
 */
import {state} from './state';

export interface KernelStats {
  /** Calls per kernel, keyed `${kernelName}/${backendName}`. */
  calls: Record<string, number>;
  /** The largest patch-matrix workspace of one kernel call, in bytes. */
  peakWorkspaceBytes: number;
}

export function countKernelCall(kernelName: string, backendName: string, workspaceBytes: number):
    void {
  // Nested maps, so counting builds no string; in the state every copy of the package shares.
  let perBackend = state.calls.get(kernelName);
  if (perBackend === undefined) state.calls.set(kernelName, perBackend = new Map());
  perBackend.set(backendName, (perBackend.get(backendName) ?? 0) + 1);
  if (workspaceBytes > state.peakWorkspaceBytes) state.peakWorkspaceBytes = workspaceBytes;
}

/** A snapshot of the counters. */
export function kernelStats(): KernelStats {
  const snapshot: Record<string, number> = {};
  for (const [kernelName, perBackend] of state.calls) {
    for (const [backendName, count] of perBackend) snapshot[`${kernelName}/${backendName}`] = count;
  }
  return {calls: snapshot, peakWorkspaceBytes: state.peakWorkspaceBytes};
}

export function resetKernelStats(): void {
  state.calls.clear();
  state.peakWorkspaceBytes = 0;
}

/**
 * Counters that show which of this package's kernels ran and how large their im2col
 * workspace got. Cheap enough to stay on; tests and users read them to confirm that a
 * model really ran on im2col.
 */
export interface KernelStats {
  /** Calls per kernel, keyed `${kernelName}/${backendName}`. */
  calls: Record<string, number>;
  /** The largest patch-matrix workspace of one kernel call, in bytes. */
  peakWorkspaceBytes: number;
}

/** Calls per backend per kernel: nested maps, so counting builds no string. */
let calls = new Map<string, Map<string, number>>();
let peakWorkspaceBytes = 0;

export function countKernelCall(kernelName: string, backendName: string, workspaceBytes: number):
    void {
  let perBackend = calls.get(kernelName);
  if (perBackend === undefined) calls.set(kernelName, perBackend = new Map());
  perBackend.set(backendName, (perBackend.get(backendName) ?? 0) + 1);
  if (workspaceBytes > peakWorkspaceBytes) peakWorkspaceBytes = workspaceBytes;
}

/** A snapshot of the counters. */
export function kernelStats(): KernelStats {
  const snapshot: Record<string, number> = {};
  for (const [kernelName, perBackend] of calls) {
    for (const [backendName, count] of perBackend) snapshot[`${kernelName}/${backendName}`] = count;
  }
  return {calls: snapshot, peakWorkspaceBytes};
}

export function resetKernelStats(): void {
  calls = new Map();
  peakWorkspaceBytes = 0;
}

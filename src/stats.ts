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

let stats: KernelStats = {calls: {}, peakWorkspaceBytes: 0};

export function countKernelCall(kernelName: string, backendName: string, workspaceBytes: number):
    void {
  const key = `${kernelName}/${backendName}`;
  stats.calls[key] = (stats.calls[key] ?? 0) + 1;
  stats.peakWorkspaceBytes = Math.max(stats.peakWorkspaceBytes, workspaceBytes);
}

/** A snapshot of the counters. */
export function kernelStats(): KernelStats {
  return {calls: {...stats.calls}, peakWorkspaceBytes: stats.peakWorkspaceBytes};
}

export function resetKernelStats(): void {
  stats = {calls: {}, peakWorkspaceBytes: 0};
}

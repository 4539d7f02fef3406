/**
 * Kernels that stand in for tfjs's own under useIm2col, per backend. Each backend's register
 * module adds its list; useIm2col swaps them in and out.
 */
import type {KernelConfig} from '@tensorflow/tfjs-core';

const standIns = new Map<string, KernelConfig[]>();

export function registerStandIns(backendName: string, configs: KernelConfig[]): void {
  standIns.set(backendName, configs);
}

export function standInsFor(backendName: string): KernelConfig[] {
  return standIns.get(backendName) ?? [];
}

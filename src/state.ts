/**
 * Module state shared by every copy of this package loaded into one JavaScript realm: the ESM
 * and CJS builds, or the main and subpath entries bundled apart. It lives on a global, as tfjs
 * keeps its engine and registries, so kernels, gradients and flags are registered once, and
 * the counters, the useIm2col switch and the op-to-kernel handover are one for all copies.
 */
import type {KernelConfig, TensorInfo} from '@tensorflow/tfjs-core';
import type {BackendDriver} from './engine/driver';
import type {ConvGeometry} from './geometry/types';

/** A FusedConv2D stand-in's call, as the fused gradient bridge needs it. */
export interface FusedConv2dCall {
  dataId: object;
  attrs: object;
}

export interface Im2colState {
  /** Calls per kernel name, per backend name. */
  readonly calls: Map<string, Map<string, number>>;
  /** Stand-in calls handed to the backend's own kernel, per kernel name, per backend name. */
  readonly handedCalls: Map<string, Map<string, number>>;
  peakWorkspaceBytes: number;
  /** Products that ran on more than one thread. */
  threadedProducts: number;
  /** The geometry an op handed to the kernel it runs next (see geometry/handover.ts). */
  handedOver: {attrs: object, geometry: ConvGeometry} | undefined;
  /** Per backend name: its driver, and the kernels useIm2col swaps in for its own. */
  readonly drivers: Map<string, {driver: BackendDriver, standIns: KernelConfig[]}>;
  /** The tfjs kernels useIm2col replaced, by `${backendName}/${kernelName}`, while replaced. */
  readonly replaced: Map<string, KernelConfig>;
  /** Backends whose kernels useIm2col has switched now, with the tfjs kernels it swapped. */
  readonly switched: Map<string, string[]>;
  /** Undoes useIm2col's gradient swaps; set while any backend is switched. */
  restoreGradients: (() => void) | null;
  /** Told of each FusedConv2D stand-in call while the fused gradient bridge is on. */
  onFusedConv2dCall: ((result: TensorInfo, attrs: object) => void) | null;
  /** What has been registered with tfjs: 'flags', 'gradients', 'kernels/<backend>'. */
  readonly registered: Set<string>;
  /** Warnings given once per realm. */
  readonly warned: Set<string>;
}

const KEY = Symbol.for('tfjs-im2col.state.v3');

function makeState(): Im2colState {
  return {
    calls: new Map(), handedCalls: new Map(), peakWorkspaceBytes: 0, threadedProducts: 0, handedOver: undefined, drivers: new Map(),
    replaced: new Map(),
    switched: new Map(), restoreGradients: null, onFusedConv2dCall: null,
    registered: new Set(), warned: new Set()
  };
}

const holder = globalThis as unknown as {[KEY]?: Im2colState};

export const state: Im2colState = holder[KEY] ??= makeState();

/** Runs `register` unless something registered `what` already in this realm. */
export function registerOnce(what: string, register: () => void): void {
  if (state.registered.has(what)) return;
  register();
  state.registered.add(what);
}

/** console.warn, once per realm for each key. */
export function warnOnce(key: string, message: string): void {
  if (state.warned.has(key)) return;
  state.warned.add(key);
  console.warn(message);
}

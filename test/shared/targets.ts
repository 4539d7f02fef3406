/**
 * The backends every shared test body (test/shared/*.ts) runs on. A new backend is one entry
 * here: the Node runner (test/shared_bodies.test.ts) takes the `where: 'node'` entries (cpu
 * with each CPU GEMM, on one thread and on worker threads, tfjs's wasm backend), the browser runner
 * (test/browser/shared_bodies.test.ts) the `where: 'browser'` ones (cpu, wasm, webgl).
 */

import type {FamilyOp} from '../helpers/family_cases';

/** How many seeded cases each sweep runs (see the bodies for what a case is). */
export interface CaseCounts {
  parityConv2d: number;
  parityConv1d: number;
  /** Every n-th parity case is also checked against tf.conv2d on the target's own backend
   *  (all are checked against tf.conv2d on cpu); 1 on cpu, where the two are the same. */
  ownReferenceEvery: number;
  fused: number;
  fusedNoTfjsPath: number;
  gradConv2d: number;
  gradNumerical: number;
  gradTiled: number;
  gradConv1d: number;
  col2im: number;
  gradFused: number;
  /** Gradient sweeps skip cases with a larger input (fewer shader shapes on software WebGL). */
  gradMaxInputSize?: number;
  /** The smallest workspace budget the tiled gradients get, in output positions' patches
   *  (webgl's chunks are at least 2x2 positions: a packed texel holds 2 rows (NCHW) x 2 columns). */
  gradTiledMinPositions?: number;
}

export interface Target {
  /** The describe block's name. */
  name: string;
  /** The tfjs backend the bodies run on. */
  backend: string;
  /** tfjs flags set for this target (and put back afterwards). */
  flags: Record<string, string | number | boolean>;
  where: 'node' | 'browser';
  /** Modules that register the backend, imported by the runner (Node) or bundled into the
   *  page (browser); tfjs-backend-cpu and (in the page) -webgl are always there. */
  modules?: string[];
  cases: CaseCounts;
  /** Node: every product goes to the worker threads, whatever its size (the sweeps' cases are
   *  small; the measured threshold would keep most on the calling thread). */
  threadsEveryProduct?: boolean;
  /** Where the bodies run tfjs's reference gradients and fused references (default: the
   *  target's own backend). wasm's tfjs ops refuse NCHW and have no Conv2DBackpropFilter. */
  referenceBackend?: string;
  /** The own-backend reference is tfjs 4.22's wasm Conv2D, which refuses NCHW (checked with
   *  x transposed to NHWC around it) and gives values unlike tfjs's cpu Conv2D (which this
   *  package matches) with a dimRoundingMode, and for 5 of the sweep's 'same' cases with a
   *  stride over 1: cases of those two kinds are checked against cpu only. */
  ownReferenceIsTfjsWasm?: boolean;
  /** The family ops (test/shared/family.ts) this target runs, with their case counts. */
  family: {ops: FamilyOp[], parity: number, tiled: number, gradients: number,
           /** IM2COL_WORKSPACE_BYTES of the tiled sweep. */
           tiledBytes: number,
           /** tfjs kernels the stand-in body swaps (all the driver has, or a subset). */
           standIns: string[],
           /** Cases of the filter-gradient stand-ins' sweep (0: the driver has none). */
           filterGradients: number};
  /** Largest relative error allowed: forward results, gradients. */
  tolerance: {forward: number, gradient: number};
}

/** Every case of today's cpu suites (the cpu backend is fast). */
const FULL: CaseCounts = {
  parityConv2d: 600, parityConv1d: 250, ownReferenceEvery: 1, fused: 140, fusedNoTfjsPath: 70,
  gradConv2d: 80, gradNumerical: 8, gradTiled: 60, gradConv1d: 40, col2im: 30, gradFused: 42,
};

/** The cpu-speed backends in the page: about half the cases. */
const BROWSER_CPU: CaseCounts = {
  ...FULL, parityConv2d: 300, parityConv1d: 100, fused: 70, gradConv2d: 40, gradTiled: 30,
  gradConv1d: 20, col2im: 15, gradFused: 21,
};

const CPU_TOLERANCE = {forward: 1e-5, gradient: 1e-4};

const ALL_FAMILY_OPS: FamilyOp[] = ['grouped', 'depthwise', 'fusedDepthwise', 'transpose', 'conv3d'];
const ALL_STAND_INS = ['Conv2D', 'FusedConv2D', 'DepthwiseConv2dNative', 'FusedDepthwiseConv2D',
                       'Conv2DBackpropInput', 'DepthwiseConv2dNativeBackpropInput', 'Conv3D',
                       'Conv3DBackpropInputV2', 'Conv2DBackpropFilter',
                       'DepthwiseConv2dNativeBackpropFilter'];
/** The stand-ins webgl has (its driver keeps tfjs's filter-gradient kernels). */
const WEBGL_STAND_INS = ['Conv2D', 'FusedConv2D', 'DepthwiseConv2dNative', 'FusedDepthwiseConv2D',
                         'Conv2DBackpropInput', 'DepthwiseConv2dNativeBackpropInput', 'Conv3D',
                         'Conv3DBackpropInputV2'];
const CPU_FAMILY = {ops: ALL_FAMILY_OPS, parity: 80, tiled: 24, tiledBytes: 512, gradients: 16,
                    standIns: ALL_STAND_INS, filterGradients: 60};

/** The threaded targets: the cpu suites at half their cases. */
const THREADED: CaseCounts = {
  ...FULL, parityConv2d: 300, parityConv1d: 120, fused: 70, fusedNoTfjsPath: 35, gradConv2d: 40,
  gradTiled: 30, gradConv1d: 20, col2im: 15, gradFused: 21,
};

export const TARGETS: Target[] = [
  {name: 'cpu/wasm', backend: 'cpu', flags: {IM2COL_CPU_GEMM: 'wasm', IM2COL_CPU_THREADS: 1},
   where: 'node', cases: FULL, family: CPU_FAMILY, tolerance: CPU_TOLERANCE},
  // Worker threads: 2, and 3 for splits that do not come out even.
  {name: 'cpu/wasm, 2 threads', backend: 'cpu',
   flags: {IM2COL_CPU_GEMM: 'wasm', IM2COL_CPU_THREADS: 2}, where: 'node',
   threadsEveryProduct: true, cases: THREADED,
   family: {...CPU_FAMILY, parity: 40, tiled: 12, gradients: 8, filterGradients: 30},
   tolerance: CPU_TOLERANCE},
  {name: 'cpu/wasm, 3 threads', backend: 'cpu',
   flags: {IM2COL_CPU_GEMM: 'wasm', IM2COL_CPU_THREADS: 3}, where: 'node',
   threadsEveryProduct: true, cases: {...THREADED, gradConv2d: 20, gradTiled: 15, gradFused: 10},
   family: {...CPU_FAMILY, parity: 40, tiled: 12, gradients: 4, filterGradients: 15},
   tolerance: CPU_TOLERANCE},
  {name: 'cpu/typescript', backend: 'cpu', flags: {IM2COL_CPU_GEMM: 'typescript'}, where: 'node',
   cases: FULL, family: CPU_FAMILY, tolerance: CPU_TOLERANCE},
  // tfjs's wasm backend, single-threaded in Node; its Conv2D is checked on every 5th case.
  // IS_TEST off: under it tfjs's engine counts the copies wasm's Identity makes of the tensors
  // a custom-gradient op saves as leaks (tfjs's own fusedMatMul__op trips it too); the
  // bodies check tensors and bytes themselves.
  {name: 'wasm backend', backend: 'wasm', flags: {IS_TEST: false}, where: 'node',
   modules: ['@tensorflow/tfjs-backend-wasm'],
   cases: {...FULL, ownReferenceEvery: 5}, referenceBackend: 'cpu', ownReferenceIsTfjsWasm: true,
   family: {...CPU_FAMILY, parity: 30, tiled: 10, gradients: 6, filterGradients: 24},
   tolerance: CPU_TOLERANCE},
  // In the page 'auto' picks the wasm GEMM (main thread); fewer cases, Node covers the rest.
  {name: 'cpu', backend: 'cpu', flags: {}, where: 'browser', cases: BROWSER_CPU,
   family: {...CPU_FAMILY, parity: 30, tiled: 10, gradients: 6, filterGradients: 24},
   tolerance: CPU_TOLERANCE},
  // tfjs's wasm backend in the page: its SIMD binary, one thread (the page is not
  // cross-origin isolated). As in Node (IS_TEST off likewise), with fewer cases.
  {name: 'wasm backend', backend: 'wasm', flags: {IS_TEST: false}, where: 'browser',
   modules: ['@tensorflow/tfjs-backend-wasm'],
   cases: {...BROWSER_CPU, ownReferenceEvery: 5}, referenceBackend: 'cpu',
   ownReferenceIsTfjsWasm: true,
   family: {...CPU_FAMILY, parity: 30, tiled: 10, gradients: 6, filterGradients: 24},
   tolerance: CPU_TOLERANCE},
  // SwiftShader compiles each new shape's shaders slowly: a subset of the cases.
  {name: 'webgl', backend: 'webgl', flags: {}, where: 'browser',
   cases: {parityConv2d: 300, parityConv1d: 100, ownReferenceEvery: 5, fused: 7,
           fusedNoTfjsPath: 7, gradConv2d: 8, gradNumerical: 1, gradTiled: 6, gradConv1d: 2,
           col2im: 2, gradFused: 7, gradMaxInputSize: 1500, gradTiledMinPositions: 4},
   family: {ops: ALL_FAMILY_OPS, parity: 12, tiled: 4,
            tiledBytes: 4096, gradients: 2, standIns: WEBGL_STAND_INS, filterGradients: 0},
   // Half-float render targets need 2e-2 (the browser runner checks the context).
   tolerance: {forward: 1e-4, gradient: 1e-3}},
];

export function targetsIn(where: Target['where']): Target[] {
  return TARGETS.filter(t => t.where === where);
}

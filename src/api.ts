/**
 * The public API without any backend's kernels: the ops, useIm2col, the flags and counters.
 * The entries add drivers: `tfjs-im2col` (index.ts) registers cpu, webgl and wasm,
 * `tfjs-im2col/cpu`, `tfjs-im2col/webgl` and `tfjs-im2col/wasm` (entries/) one each.
 */
import './config';
import {registerIm2colGradients} from './gradients/kernel_gradients';

export {explainConv1d, explainConv2d} from './ops/explain';
export type {Explanation} from './ops/explain';
export {fusedIm2colConv2d} from './ops/fused_im2col_conv2d';
export type {FusedIm2colConv2dArgs} from './ops/fused_im2col_conv2d';
export {im2col} from './ops/im2col';
export {im2colConv1d} from './ops/im2col_conv1d';
export {im2colConv2d} from './ops/im2col_conv2d';
export {im2colDepthwiseConv2d} from './ops/im2col_depthwise_conv2d';
export {fusedIm2colDepthwiseConv2d} from './ops/fused_im2col_depthwise_conv2d';
export {im2colConv2dTranspose} from './ops/im2col_conv2d_transpose';
export {im2colConv3d} from './ops/im2col_conv3d';
export {CPU_GEMM_FLAG, CPU_THREADS_FLAG, WORKSPACE_BYTES_FLAG} from './config';
export {disposeIm2colThreads} from './cpu/threads/pool';
export {availableCpuGemms} from './cpu/gemm';
export type {CpuGemmName} from './cpu/gemm';
export {useIm2col} from './use_im2col';
export type {Im2colBackendName, UseIm2colOptions} from './use_im2col';
export {kernelStats, resetKernelStats} from './stats';
export type {KernelStats} from './stats';
export * from './kernel_names';
export type {FusedActivation} from './geometry';
export type {Conv1dDataFormat, Conv1dPad, Conv2dDataFormat, Conv2dPad, Conv3dDataFormat, Conv3dPad, DimRoundingMode, ExplicitPadding} from './geometry';

// The kernels' gradients are backend-neutral (tfjs keys them by kernel name alone).
registerIm2colGradients();

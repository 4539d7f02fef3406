/**
 * tfjs-im2col: convolutions for TensorFlow.js computed as an explicit im2col patch matrix
 * and one GEMM. Importing the package registers its kernels for the cpu and webgl backends
 * (registration needs neither backend to be imported).
 */
import './config';
import './cpu/register';
import './webgl/register';
import './gradients/kernel_gradients';

export {explainConv1d, explainConv2d} from './ops/explain';
export type {Explanation} from './ops/explain';
export {fusedIm2colConv2d} from './ops/fused_im2col_conv2d';
export type {FusedIm2colConv2dArgs} from './ops/fused_im2col_conv2d';
export {im2col} from './ops/im2col';
export {im2colConv1d} from './ops/im2col_conv1d';
export {im2colConv2d} from './ops/im2col_conv2d';
export {CPU_GEMM_FLAG, WORKSPACE_BYTES_FLAG} from './config';
export {availableCpuGemms} from './cpu/gemm';
export type {CpuGemmName} from './cpu/gemm';
export {useIm2col} from './use_im2col';
export type {Im2colBackendName, UseIm2colOptions} from './use_im2col';
export {kernelStats, resetKernelStats} from './stats';
export type {KernelStats} from './stats';
export * from './kernel_names';
export type {FusedActivation} from './geometry';
export type {Conv1dDataFormat, Conv1dPad, Conv2dDataFormat, Conv2dPad, DimRoundingMode, ExplicitPadding} from './geometry';

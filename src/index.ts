/**
 * tfjs-im2col: convolutions for TensorFlow.js computed as an explicit im2col patch matrix
 * and one GEMM. This entry registers the kernels for the cpu and webgl backends
 * (registration needs neither backend to be imported); `tfjs-im2col/cpu` and
 * `tfjs-im2col/webgl` register one each.
 */
import './cpu/register';
import './webgl/register';

export * from './api';

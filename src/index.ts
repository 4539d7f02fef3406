/**
 * tfjs-im2col: convolutions for TensorFlow.js computed as an explicit im2col patch matrix
 * and one GEMM. This entry registers the kernels for the cpu, wasm and webgl
 * backends (registration needs none of them to be imported); `tfjs-im2col/cpu`,
 * `tfjs-im2col/wasm` and `tfjs-im2col/webgl` register one each.
 */
import './cpu/register';
import './wasm/register';
import './webgl/register';

export * from './api';

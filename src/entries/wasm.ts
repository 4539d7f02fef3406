/** `tfjs-im2col/wasm`: the API with the wasm backend's kernels only. */
import '../wasm/register';

export * from '../api';

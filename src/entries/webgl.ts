/** `tfjs-im2col/webgl`: the API with the webgl backend's kernels only. */
import '../webgl/register';

export * from '../api';

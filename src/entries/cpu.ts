/** `tfjs-im2col/cpu`: the API with the cpu backend's kernels only. */
import '../cpu/register';

export * from '../api';

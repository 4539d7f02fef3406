import {op, reshape, Tensor3D, Tensor4D} from '@tensorflow/tfjs-core';
import {checkDepthwiseConv2dArgs} from '../geometry';
import {FusedIm2colDepthwiseConv2D} from '../kernel_names';
import {FusedIm2colConv2dArgs, fusedConvolution} from './fused_im2col_conv2d';

/**
 * `activation(depthwiseConv2d(x, filter) + bias)` computed the im2col way with the bias and
 * the activation in the epilogue: the arguments and results of `tf.fused.depthwiseConv2d`,
 * also for NCHW, stride combined with dilation, and gradients of every activation.
 * `filter` is `[filterHeight, filterWidth, inChannels, channelMultiplier]`; the other
 * arguments are fusedIm2colConv2d's.
 */
function fusedIm2colDepthwiseConv2d_<T extends Tensor3D | Tensor4D>(args: FusedIm2colConv2dArgs<T>):
    T {
  // Its gradient is the grouped convolution's: the filter as [kh, kw, 1, inC * multiplier].
  return fusedConvolution('fusedIm2colDepthwiseConv2d', FusedIm2colDepthwiseConv2D, args,
                          checkDepthwiseConv2dArgs, filter => {
    const [filterHeight, filterWidth, inChannels, multiplier] = filter.shape;
    return reshape(filter, [filterHeight, filterWidth, 1, inChannels * multiplier]);
  });
}

export const fusedIm2colDepthwiseConv2d = op({fusedIm2colDepthwiseConv2d_});

import {op, Tensor3D, Tensor4D, TensorLike} from '@tensorflow/tfjs-core';
import {checkDepthwiseConv2dArgs, Conv2dDataFormat, Conv2dPad, DimRoundingMode} from '../geometry';
import {Im2colDepthwiseConv2D} from '../kernel_names';
import {conv2dOp} from './im2col_conv2d';

/**
 * A depthwise 2D convolution computed the im2col way: the patch matrix, multiplied channel
 * by channel. Same signature, shapes and results as `tf.depthwiseConv2d`; unlike it,
 * strides > 1 may be combined with dilations > 1, and every setting has gradients.
 *
 * @param x `[batch, height, width, inChannels]` (NHWC) or `[batch, inChannels, height, width]`
 *     (NCHW); rank 3 is taken as a batch of one.
 * @param filter `[filterHeight, filterWidth, inChannels, channelMultiplier]`; output channel
 *     `c * channelMultiplier + m` is channel c convolved with filter[:, :, c, m].
 */
function im2colDepthwiseConv2d_<T extends Tensor3D | Tensor4D>(
    x: T | TensorLike, filter: Tensor4D | TensorLike, strides: [number, number] | number,
    pad: Conv2dPad, dataFormat: Conv2dDataFormat = 'NHWC',
    dilations: [number, number] | number = [1, 1], dimRoundingMode?: DimRoundingMode): T {
  return conv2dOp('im2colDepthwiseConv2d', Im2colDepthwiseConv2D, checkDepthwiseConv2dArgs, x,
                  filter, {strides, pad, dataFormat, dilations, dimRoundingMode});
}

export const im2colDepthwiseConv2d = op({im2colDepthwiseConv2d_});

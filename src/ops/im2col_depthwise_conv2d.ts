import {engine, op, reshape, Tensor, Tensor3D, Tensor4D, TensorLike} from '@tensorflow/tfjs-core';
import {checkDepthwiseConv2dArgs, checkRank, Conv2dDataFormat, Conv2dPad, Conv2dSettings, DimRoundingMode, handOverGeometry} from '../geometry';
import {Im2colDepthwiseConv2D} from '../kernel_names';
import {checkKernelAvailable, toFloatTensor} from './op_util';

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
  const opName = 'im2colDepthwiseConv2d';
  const $x = toFloatTensor(x, 'x', opName);
  const $filter = toFloatTensor(filter, 'filter', opName);
  checkRank(opName, 'x', $x.shape, [3, 4], dataFormat === 'NCHW' ?
      '[batch, inChannels, height, width]' : '[batch, height, width, inChannels]');
  const x4dShape = $x.rank === 3 ? [1, ...$x.shape] : $x.shape;
  const settings: Conv2dSettings = {strides, pad, dataFormat, dilations, dimRoundingMode};
  const geometry = checkDepthwiseConv2dArgs(opName, x4dShape, $filter.shape, settings);
  checkKernelAvailable(opName, Im2colDepthwiseConv2D);

  const x4d = $x.rank === 3 ? reshape($x, x4dShape as number[] as [number]) : $x;
  handOverGeometry(settings, geometry);
  const result = engine().runKernel(Im2colDepthwiseConv2D, {x: x4d, filter: $filter},
      settings as unknown as Record<string, unknown> as never) as Tensor;
  return ($x.rank === 3 ? reshape(result, result.shape.slice(1) as [number]) : result) as unknown as T;
}

export const im2colDepthwiseConv2d = op({im2colDepthwiseConv2d_});

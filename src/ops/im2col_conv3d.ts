import {engine, op, reshape, Tensor, Tensor4D, Tensor5D, TensorLike} from '@tensorflow/tfjs-core';
import {checkConv3dArgs, checkRank, Conv3dDataFormat, Conv3dPad, Conv3dSettings} from '../geometry';
import {Im2colConv3D} from '../kernel_names';
import {checkKernelAvailable, toFloatTensor} from './op_util';

/**
 * A 3D convolution computed as vol2col (the 3D patch matrix) + GEMM. Same signature, shapes
 * and results as `tf.conv3d`, and also NCDHW and gradients with dilations.
 *
 * @param x `[batch, depth, height, width, inChannels]` (NDHWC) or `[batch, inChannels,
 *     depth, height, width]` (NCDHW); rank 4 is taken as a batch of one.
 * @param filter `[filterDepth, filterHeight, filterWidth, inChannels, outChannels]`.
 * @param strides `[strideDepth, strideHeight, strideWidth]` or one number for all three.
 * @param pad 'valid' or 'same'.
 */
function im2colConv3d_<T extends Tensor4D | Tensor5D>(
    x: T | TensorLike, filter: Tensor5D | TensorLike,
    strides: [number, number, number] | number, pad: Conv3dPad,
    dataFormat: Conv3dDataFormat = 'NDHWC',
    dilations: [number, number, number] | number = [1, 1, 1]): T {
  const opName = 'im2colConv3d';
  const $x = toFloatTensor(x, 'x', opName);
  const $filter = toFloatTensor(filter, 'filter', opName);
  checkRank(opName, 'x', $x.shape, [4, 5], dataFormat === 'NCDHW' ?
      '[batch, inChannels, depth, height, width]' : '[batch, depth, height, width, inChannels]');
  const x5dShape = $x.rank === 4 ? [1, ...$x.shape] : $x.shape;
  const settings: Conv3dSettings = {strides, pad, dataFormat, dilations};
  checkConv3dArgs(opName, x5dShape, $filter.shape, settings);
  checkKernelAvailable(opName, Im2colConv3D);

  const x5d = $x.rank === 4 ? reshape($x, x5dShape as number[] as [number]) : $x;
  const result = engine().runKernel(Im2colConv3D, {x: x5d, filter: $filter},
      settings as unknown as Record<string, unknown> as never) as Tensor;
  return ($x.rank === 4 ? reshape(result, result.shape.slice(1) as [number]) : result) as unknown as T;
}

export const im2colConv3d = op({im2colConv3d_});

import {engine, op, reshape, Tensor, Tensor3D, Tensor4D, TensorLike} from '@tensorflow/tfjs-core';
import {checkConv2dArgs, checkRank, Conv2dDataFormat, Conv2dPad, Conv2dSettings, ConvGeometry, DimRoundingMode, handOverGeometry} from '../geometry';
import {Im2colConv2D} from '../kernel_names';
import {checkKernelAvailable, toFloatTensor} from './op_util';

/**
 * A 2D convolution computed as im2col + GEMM. Same signature, shapes and results as
 * `tf.conv2d`; unlike it, strides > 1 may be combined with dilations > 1.
 *
 * @param x `[batch, height, width, inChannels]` (NHWC) or `[batch, inChannels, height, width]`
 *     (NCHW); rank 3 is taken as a batch of one.
 * @param filter `[filterHeight, filterWidth, inChannels, outChannels]`.
 * @param strides `[strideHeight, strideWidth]` or one number for both.
 * @param pad 'valid', 'same', a non-negative integer, or explicit padding in the data format's
 *     axis order, e.g. `[[0, 0], [top, bottom], [left, right], [0, 0]]` for NHWC.
 * @param dataFormat 'NHWC' (default) or 'NCHW'.
 * @param dilations `[dilationHeight, dilationWidth]` or one number for both (default 1).
 * @param dimRoundingMode 'floor', 'round' or 'ceil' for the output size with numeric or
 *     explicit padding (default: truncation, as tfjs).
 */
function im2colConv2d_<T extends Tensor3D | Tensor4D>(
    x: T | TensorLike, filter: Tensor4D | TensorLike, strides: [number, number] | number,
    pad: Conv2dPad, dataFormat: Conv2dDataFormat = 'NHWC',
    dilations: [number, number] | number = [1, 1], dimRoundingMode?: DimRoundingMode): T {
  return conv2dOp('im2colConv2d', Im2colConv2D, checkConv2dArgs, x, filter,
                  {strides, pad, dataFormat, dilations, dimRoundingMode});
}

/**
 * A 2D convolution op: converts and checks the inputs (`check` gives the geometry: plain,
 * grouped or depthwise), hands the geometry to `kernelName` and runs it; a rank-3 x is a
 * batch of one.
 */
export function conv2dOp<T extends Tensor3D | Tensor4D>(
    opName: string, kernelName: string,
    check: (opName: string, xShape: number[], filterShape: number[],
            settings: Conv2dSettings) => ConvGeometry,
    x: T | TensorLike, filter: Tensor4D | TensorLike, settings: Conv2dSettings): T {
  const $x = toFloatTensor(x, 'x', opName);
  const $filter = toFloatTensor(filter, 'filter', opName);
  checkRank(opName, 'x', $x.shape, [3, 4], settings.dataFormat === 'NCHW' ?
      '[batch, inChannels, height, width]' : '[batch, height, width, inChannels]');
  const x4dShape = $x.rank === 3 ? [1, ...$x.shape] : $x.shape;
  const geometry = check(opName, x4dShape, $filter.shape, settings);
  checkKernelAvailable(opName, kernelName);

  const x4d = $x.rank === 3 ? reshape($x, x4dShape as number[] as [number]) : $x;
  handOverGeometry(settings, geometry);
  const result = engine().runKernel(kernelName, {x: x4d, filter: $filter},
      settings as unknown as Record<string, unknown> as never) as Tensor;
  return ($x.rank === 3 ? reshape(result, result.shape.slice(1) as [number]) : result) as unknown as T;
}

export const im2colConv2d = op({im2colConv2d_});

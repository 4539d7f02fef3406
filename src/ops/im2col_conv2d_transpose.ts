import {engine, op, reshape, Tensor, Tensor3D, Tensor4D, TensorLike} from '@tensorflow/tfjs-core';
import {checkConv2dTransposeArgs, checkRank, Conv2dDataFormat, Conv2dPad, Conv2dSettings, DimRoundingMode, fail, describe} from '../geometry';
import {Im2colConv2DBackpropInput, Im2colConv2DBackpropInputAttrs} from '../kernel_names';
import {checkKernelAvailable, toFloatTensor} from './op_util';

/**
 * The transposed 2D convolution (the input gradient of a convolution, "deconvolution")
 * computed the im2col way: dY · Wᵀ gives the patch-matrix rows, col2im adds them onto the
 * output. Same signature, shapes and results as `tf.conv2dTranspose`, plus a data format,
 * dilations, and groups (inferred from the filter, as in the forward convolution).
 *
 * @param x `[batch, height, width, inChannels]` (NHWC) or NCHW; rank 3 is a batch of one.
 * @param filter `[filterHeight, filterWidth, outChannels / groups, inChannels]`.
 * @param outputShape the output's shape (rank 4, or rank 3 for a rank-3 x): the shape of
 *     the input of the convolution this one transposes.
 */
function im2colConv2dTranspose_<T extends Tensor3D | Tensor4D>(
    x: T | TensorLike, filter: Tensor4D | TensorLike,
    outputShape: [number, number, number, number] | [number, number, number],
    strides: [number, number] | number, pad: Conv2dPad, dimRoundingMode?: DimRoundingMode,
    dataFormat: Conv2dDataFormat = 'NHWC', dilations: [number, number] | number = [1, 1]): T {
  const opName = 'im2colConv2dTranspose';
  const $x = toFloatTensor(x, 'x', opName);
  const $filter = toFloatTensor(filter, 'filter', opName);
  checkRank(opName, 'x', $x.shape, [3, 4], dataFormat === 'NCHW' ?
      '[batch, channels, height, width]' : '[batch, height, width, channels]');
  const x4dShape = $x.rank === 3 ? [1, ...$x.shape] : $x.shape;
  if (!Array.isArray(outputShape) || outputShape.length !== $x.rank) {
    fail(opName, `argument 'outputShape' must have x's rank (${$x.rank}), but got ` +
        `${describe(outputShape)}.`);
  }
  const output4dShape = outputShape.length === 3 ? [1, ...outputShape] : [...outputShape];
  const settings: Conv2dSettings = {strides, pad, dataFormat, dilations, dimRoundingMode};
  checkConv2dTransposeArgs(opName, x4dShape, $filter.shape, output4dShape, settings);
  checkKernelAvailable(opName, Im2colConv2DBackpropInput);

  const attrs: Im2colConv2DBackpropInputAttrs = {
    ...settings, dimRoundingMode: dimRoundingMode as DimRoundingMode,
    inputShape: output4dShape as [number, number, number, number]
  };
  const x4d = $x.rank === 3 ? reshape($x, x4dShape as number[] as [number]) : $x;
  const result = engine().runKernel(Im2colConv2DBackpropInput, {dy: x4d, filter: $filter},
                                    attrs as unknown as {}) as Tensor;
  return ($x.rank === 3 ? reshape(result, result.shape.slice(1) as [number]) : result) as unknown as T;
}

export const im2colConv2dTranspose = op({im2colConv2dTranspose_});

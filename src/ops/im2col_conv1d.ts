import {engine, op, reshape, Tensor, Tensor2D, Tensor3D, TensorLike} from '@tensorflow/tfjs-core';
import {checkConv1dArgs, checkRank, Conv1dDataFormat, Conv1dPad, Conv1dSettings, DimRoundingMode, handOverGeometry} from '../geometry';
import {Im2colConv1D} from '../kernel_names';
import {checkKernelAvailable, toFloatTensor} from './op_util';

/**
 * A 1D convolution computed as im2col + GEMM, like `tf.conv1d` but also correct for numeric
 * padding, explicit padding (`[[0, 0], [left, right], [0, 0]]` for NWC,
 * `[[0, 0], [0, 0], [left, right]]` for NCW), 'causal' padding (left pad
 * `dilation * (filterWidth - 1)`, as Keras) and stride combined with dilation.
 *
 * @param x `[batch, width, inChannels]` (NWC) or `[batch, inChannels, width]` (NCW); rank 2 is
 *     taken as a batch of one.
 * @param filter `[filterWidth, inChannels, outChannels]`.
 */
function im2colConv1d_<T extends Tensor2D | Tensor3D>(
    x: T | TensorLike, filter: Tensor3D | TensorLike, stride: number, pad: Conv1dPad,
    dataFormat: Conv1dDataFormat = 'NWC', dilation = 1, dimRoundingMode?: DimRoundingMode): T {
  const opName = 'im2colConv1d';
  const $x = toFloatTensor(x, 'x', opName);
  const $filter = toFloatTensor(filter, 'filter', opName);
  checkRank(opName, 'x', $x.shape, [2, 3], dataFormat === 'NCW' ?
      '[batch, inChannels, width]' : '[batch, width, inChannels]');
  const x3dShape = $x.rank === 2 ? [1, ...$x.shape] : $x.shape;
  const settings: Conv1dSettings = {stride, pad, dataFormat, dilation, dimRoundingMode};
  const geometry = checkConv1dArgs(opName, x3dShape, $filter.shape, settings);
  checkKernelAvailable(opName, Im2colConv1D);

  const x3d = $x.rank === 2 ? reshape($x, x3dShape as number[] as [number]) : $x;
  handOverGeometry(settings, geometry);
  const result = engine().runKernel(Im2colConv1D, {x: x3d, filter: $filter},
      settings as unknown as Record<string, unknown> as never) as Tensor;
  return ($x.rank === 2 ? reshape(result, result.shape.slice(1) as [number]) : result) as unknown as T;
}

export const im2colConv1d = op({im2colConv1d_});

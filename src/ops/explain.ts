/**
 * The article's picture of a convolution for one example, as tensors:
 *   P  [inChannels * kh * kw, patches]  one column per patch, channel-major within a column
 *   K  [outChannels, inChannels * kh * kw]  one row per output filter
 *   KP = K · P  [outChannels, patches]
 *   output  what im2colConv2d / im2colConv1d returns for the same input.
 * P comes from the `im2col` op (rows reordered from tfjs's (kh, kw, c) to the article's
 * (c, kh, kw)); KP is an independent `tf.matMul`, so KP and output check each other.
 */
import {matMul, reshape, Tensor, Tensor2D, Tensor3D, Tensor4D, TensorLike, tidy, transpose} from '@tensorflow/tfjs-core';
import {checkConv1dArgs, checkRank, Conv1dPad, Conv2dPad, conv1dAs2d} from '../geometry';
import {im2col} from './im2col';
import {im2colConv1d} from './im2col_conv1d';
import {im2colConv2d} from './im2col_conv2d';
import {toFloatTensor} from './op_util';

export interface Explanation<T extends Tensor> {
  P: Tensor2D;
  K: Tensor2D;
  KP: Tensor2D;
  output: T;
}

function checkSingleExample(opName: string, shape: number[], rank: number, layout: string): void {
  checkRank(opName, 'x', shape, [rank, rank + 1], layout);
  if (shape.length === rank + 1 && shape[0] !== 1) {
    throw new Error(`${opName}: argument 'x' must be a single example (no batch dimension, or ` +
        `a batch of 1), but got shape [${shape}].`);
  }
}

/** The article's P, K and K·P for filter taps of shape [kh, kw, inC, outC]. */
function articleMatrices(patchRows: Tensor3D, filter4d: Tensor4D): Omit<Explanation<Tensor>, 'output'> {
  const [kh, kw, inC, outC] = filter4d.shape;
  const patches = patchRows.shape[1];
  const P = reshape(transpose(reshape(patchRows, [patches, kh, kw, inC]), [3, 1, 2, 0]),
                    [inC * kh * kw, patches]) as Tensor2D;
  const K = reshape(transpose(filter4d, [3, 2, 0, 1]), [outC, inC * kh * kw]) as Tensor2D;
  return {P, K, KP: matMul(K, P)};
}

/** Explains a 2D convolution (NHWC) of one example. */
export function explainConv2d(x: Tensor3D | Tensor4D | TensorLike, filter: Tensor4D | TensorLike,
                              strides: [number, number] | number, pad: Conv2dPad,
                              dilations: [number, number] | number = [1, 1]):
    Explanation<Tensor3D | Tensor4D> {
  return tidy(() => {
    const opName = 'explainConv2d';
    const $x = toFloatTensor(x, 'x', opName);
    const $filter = toFloatTensor(filter, 'filter', opName) as Tensor4D;
    checkSingleExample(opName, $x.shape, 3, '[height, width, inChannels]');
    checkRank(opName, 'filter', $filter.shape, [4],
              '[filterHeight, filterWidth, inChannels, outChannels]');
    const output = im2colConv2d($x as Tensor3D, $filter, strides, pad, 'NHWC', dilations);
    const patchRows = im2col($x as Tensor3D, [$filter.shape[0], $filter.shape[1]], strides, pad,
                             dilations);
    return {...articleMatrices(patchRows, $filter), output};
  });
}

/** Explains a 1D convolution (NWC) of one example; P's rows run (channel, tap). */
export function explainConv1d(x: Tensor2D | Tensor3D | TensorLike, filter: Tensor3D | TensorLike,
                              stride: number, pad: Conv1dPad, dilation = 1):
    Explanation<Tensor2D | Tensor3D> {
  return tidy(() => {
    const opName = 'explainConv1d';
    const $x = toFloatTensor(x, 'x', opName);
    const $filter = toFloatTensor(filter, 'filter', opName) as Tensor3D;
    checkSingleExample(opName, $x.shape, 2, '[width, inChannels]');
    const x3dShape = $x.rank === 2 ? [1, ...$x.shape] : $x.shape;
    const settings = {stride, pad, dataFormat: 'NWC' as const, dilation};
    checkConv1dArgs(opName, x3dShape, $filter.shape, settings);
    const output = im2colConv1d($x as Tensor2D, $filter, stride, pad, 'NWC', dilation);
    const {x4dShape, filter4dShape, settings2d} = conv1dAs2d(x3dShape, $filter.shape, settings);
    const patchRows = im2col(reshape($x, x4dShape as [number, number, number, number]) as Tensor4D, [1, $filter.shape[0]],
                             settings2d.strides, settings2d.pad, settings2d.dilations);
    return {...articleMatrices(patchRows, reshape($filter, filter4dShape as [number, number, number, number])), output};
  });
}

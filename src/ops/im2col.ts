import {engine, op, reshape, Tensor, Tensor3D, Tensor4D, TensorLike} from '@tensorflow/tfjs-core';
import {checkConv2dArgs, checkRank, Conv2dDataFormat, Conv2dPad, describe, failTensorSize, MAX_TENSOR_VALUES, patchLength, valueCount} from '../geometry';
import {Im2col, Im2colAttrs} from '../kernel_names';
import {checkKernelAvailable, toFloatTensor} from './op_util';

/**
 * The im2col patch matrix: `[batch, outHeight * outWidth, filterHeight * filterWidth *
 * inChannels]`, one row per output position, each row the patch's taps in (kh, kw, c) order,
 * which is the order of tfjs's filter `[kh, kw, inC, outC]` flattened. A rank-3 `x` is a batch
 * of one. Multiplying it by the filter reshaped to `[kh * kw * inC, outC]` gives the
 * convolution (NHWC).
 */
function im2col_(x: Tensor3D | Tensor4D | TensorLike, filterSize: [number, number] | number,
                 strides: [number, number] | number, pad: Conv2dPad,
                 dilations: [number, number] | number = [1, 1],
                 dataFormat: Conv2dDataFormat = 'NHWC'): Tensor3D {
  const opName = 'im2col';
  const $x = toFloatTensor(x, 'x', opName);
  checkRank(opName, 'x', $x.shape, [3, 4], dataFormat === 'NCHW' ?
      '[batch, inChannels, height, width]' : '[batch, height, width, inChannels]');
  const sizeOk = (v: unknown) => typeof v === 'number' && Number.isInteger(v) && v > 0;
  const size: [number, number] = typeof filterSize === 'number' ? [filterSize, filterSize] :
                                                                  filterSize;
  if (!Array.isArray(size) || size.length !== 2 || !size.every(sizeOk)) {
    throw new Error(`${opName}: argument 'filterSize' must be a positive integer or a pair ` +
        `[filterHeight, filterWidth] of positive integers, but got ${describe(filterSize)}.`);
  }
  const x4dShape = $x.rank === 3 ? [1, ...$x.shape] : $x.shape;
  const inChannels = dataFormat === 'NCHW' ? x4dShape[1] : x4dShape[3];
  const g = checkConv2dArgs(opName, x4dShape, [size[0], size[1], inChannels, 1],
                          {strides, pad, dataFormat, dilations});
  const patchShape = [g.batchSize, g.outHeight * g.outWidth, patchLength(g)];
  if (valueCount(patchShape) > MAX_TENSOR_VALUES) {
    failTensorSize(opName, 'filterSize', `${describe(filterSize)} with pad ${describe(pad)}`,
                   'the patch matrix', patchShape);
  }
  checkKernelAvailable(opName, Im2col);

  const attrs: Im2colAttrs = {filterSize: size, strides, pad, dilations, dataFormat};
  const x4d = $x.rank === 3 ? reshape($x, x4dShape as number[] as [number]) : $x;
  return engine().runKernel(Im2col, {x: x4d},
      attrs as unknown as Record<string, unknown> as never) as Tensor as Tensor3D;
}

export const im2col = op({im2col_});

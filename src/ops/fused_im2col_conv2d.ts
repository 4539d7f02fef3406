import {customGrad, engine, op, reshape, Tensor, Tensor3D, Tensor4D, TensorLike} from '@tensorflow/tfjs-core';
import {checkConv2dArgs, checkFusedConv2dArgs, checkRank, Conv2dDataFormat, Conv2dPad, Conv2dSettings, ConvGeometry, DimRoundingMode, FusedActivation, handOverGeometry} from '../geometry';
import {fusedConv2dBackprop} from '../gradients/fused_conv2d_backprop';
import {FusedIm2colConv2D, FusedIm2colConv2DAttrs} from '../kernel_names';
import {checkKernelAvailable, toFloatTensor} from './op_util';

export interface FusedIm2colConv2dArgs<T extends Tensor3D | Tensor4D> {
  x: T | TensorLike;
  filter: Tensor4D | TensorLike;
  strides: [number, number] | number;
  pad: Conv2dPad;
  dataFormat?: Conv2dDataFormat;
  dilations?: [number, number] | number;
  dimRoundingMode?: DimRoundingMode;
  bias?: Tensor | TensorLike;
  activation?: FusedActivation;
  preluActivationWeights?: Tensor;
  leakyreluAlpha?: number;
}

/**
 * `activation(conv2d(x, filter) + bias)` computed as im2col + GEMM with the bias and the
 * activation applied in the GEMM's epilogue: the arguments and results of `tf.fused.conv2d`,
 * and also for NCHW, stride combined with dilation, and gradients of every activation
 * (through x, filter, bias and PReLU weights) with dilation > 1.
 *
 * @param bias scalar or `[outChannels]`; for NHWC also any shape broadcasting to the output.
 * @param activation 'linear' (default), 'relu', 'relu6', 'prelu', 'leakyrelu', 'elu', 'sigmoid'.
 * @param preluActivationWeights for 'prelu': scalar, `[1]`, `[outChannels]`, or rank 3
 *     broadcasting to the output.
 * @param leakyreluAlpha for 'leakyrelu' (default 0.2, as tf.leakyRelu).
 */
function fusedIm2colConv2d_<T extends Tensor3D | Tensor4D>(args: FusedIm2colConv2dArgs<T>): T {
  return fusedConvolution('fusedIm2colConv2d', FusedIm2colConv2D, args, checkConv2dArgs,
                          filter => filter);
}

/**
 * A fused convolution op: checks, the kernel `kernelName` (plain, grouped or depthwise, as
 * `check` gives the geometry) and its gradient, which is the grouped convolution's with the
 * filter as `asConvFilter` gives it (the depthwise filter reshaped to its grouped form).
 */
export function fusedConvolution<T extends Tensor3D | Tensor4D>(
    opName: string, kernelName: string, args: FusedIm2colConv2dArgs<T>,
    check: (opName: string, xShape: number[], filterShape: number[],
            settings: Conv2dSettings) => ConvGeometry,
    asConvFilter: (filter: Tensor4D) => Tensor4D): T {
  const {strides, pad, dataFormat = 'NHWC', dilations = [1, 1], dimRoundingMode,
         activation = 'linear', leakyreluAlpha} = args;
  const $x = toFloatTensor(args.x, 'x', opName);
  const $filter = toFloatTensor(args.filter, 'filter', opName) as Tensor4D;
  const $bias = args.bias == null ? undefined : toFloatTensor(args.bias, 'bias', opName);
  const $alpha = activation !== 'prelu' || args.preluActivationWeights == null ? undefined :
      toFloatTensor(args.preluActivationWeights, 'preluActivationWeights', opName);
  checkRank(opName, 'x', $x.shape, [3, 4], dataFormat === 'NCHW' ?
      '[batch, inChannels, height, width]' : '[batch, height, width, inChannels]');
  const x4dShape = $x.rank === 3 ? [1, ...$x.shape] : $x.shape;
  const settings: Conv2dSettings = {strides, pad, dataFormat, dilations, dimRoundingMode};
  const geometry = check(opName, x4dShape, $filter.shape, settings);
  checkFusedConv2dArgs(opName, geometry,
                       {activation, biasShape: $bias?.shape, alphaShape: $alpha?.shape,
                        leakyreluAlpha});
  checkKernelAvailable(opName, kernelName);

  const attrs: FusedIm2colConv2DAttrs = {strides, pad, dataFormat, dilations,
                                         dimRoundingMode: dimRoundingMode as DimRoundingMode,
                                         activation, leakyreluAlpha};
  const x4d = ($x.rank === 3 ? reshape($x, x4dShape as [number, number, number, number]) : $x) as Tensor4D;
  // The gradient comes with the op (as tf.fused.conv2d's): bias and PReLU weights are
  // optional inputs, which a registered gradient cannot save.
  const operands = [x4d, $filter, ...($bias ? [$bias] : []), ...($alpha ? [$alpha] : [])];
  const fused = customGrad((...inputs: unknown[]) => {
    const save = inputs.pop() as (tensors: Tensor[]) => void;
    const [x, filter, ...rest] = inputs as Tensor[];
    const bias = $bias ? rest.shift() : undefined;
    const alpha = $alpha ? rest.shift() : undefined;
    const kernelInputs: Record<string, Tensor> = {x, filter};
    if (bias) kernelInputs.bias = bias;
    if (alpha) kernelInputs.preluActivationWeights = alpha;
    handOverGeometry(attrs, geometry);
    const y = engine().runKernel(kernelName, kernelInputs, attrs as unknown as {}) as Tensor4D;
    save([x, filter, y, ...(bias ? [bias] : []), ...(alpha ? [alpha] : [])]);
    const value = $x.rank === 3 ? reshape(y, y.shape.slice(1) as [number]) : y;
    const gradFunc = (dy: Tensor, saved: Tensor[]) => {
      const [sx, sFilter, sy, ...others] = saved;
      const grads = fusedConv2dBackprop(reshape(dy, sy.shape as [number, number, number, number]), {
        x: sx as Tensor4D, filter: asConvFilter(sFilter as Tensor4D), y: sy as Tensor4D,
        bias: $bias ? others.shift() : undefined,
        preluActivationWeights: $alpha ? others.shift() : undefined
      }, attrs);
      return [grads.dx, reshape(grads.dFilter, sFilter.shape),
              ...($bias ? [grads.dBias as Tensor] : []),
              ...($alpha ? [grads.dPreluActivationWeights as Tensor] : [])];
    };
    return {value, gradFunc};
  });
  return (fused as (...t: Tensor[]) => Tensor)(...operands) as unknown as T;
}

export const fusedIm2colConv2d = op({fusedIm2colConv2d_});

/**
 * Gradients of the fused convolution y = activation(conv(x, filter) + bias): the output
 * gradient goes back through the activation (every fused activation, where tfjs 4.22 has
 * only linear and relu), then through the convolution (conv2d_backprop) and the bias.
 */
import {add, cast, engine, greater, less, logicalAnd, mul, reshape, scalar, step, sub, sum, Tensor, Tensor4D, where, zeros} from '@tensorflow/tfjs-core';
import {alignedOperandShape, Conv2dSettings, DEFAULT_LEAKYRELU_ALPHA, FusedActivation} from '../geometry';
import {FusedIm2colConv2D, FusedIm2colConv2DAttrs} from '../kernel_names';
import {conv2dBackprop} from './conv2d_backprop';

export interface FusedConv2dSaved {
  x: Tensor4D;
  filter: Tensor4D;
  /** The fused output. */
  y: Tensor4D;
  bias?: Tensor;
  preluActivationWeights?: Tensor;
}

export interface FusedConv2dGradients {
  dx: Tensor4D;
  dFilter: Tensor4D;
  dBias?: Tensor;
  dPreluActivationWeights?: Tensor;
}

/** Sums a gradient of the output's shape down to a broadcast operand's shape. */
function reduceToOperand(gradient: Tensor, operandShape: number[],
                         dataFormat: Conv2dSettings['dataFormat']): Tensor {
  const aligned = alignedOperandShape(operandShape, dataFormat);
  const axes = aligned.map((size, axis) => size === 1 ? axis : -1).filter(axis => axis >= 0);
  return reshape(axes.length > 0 ? sum(gradient, axes, true) : gradient, operandShape);
}

/** conv(x, filter) + bias, recomputed where the activation's gradient needs its input. */
function preActivation(saved: FusedConv2dSaved, attrs: FusedIm2colConv2DAttrs): Tensor {
  const inputs: Record<string, Tensor> = {x: saved.x, filter: saved.filter};
  if (saved.bias != null) inputs.bias = saved.bias;
  return engine().runKernel(FusedIm2colConv2D, inputs,
      {...attrs, activation: 'linear'} as unknown as {}) as Tensor;
}

/** The gradient through the activation: dz from dy (and the PReLU weights' gradient). */
type ActivationGradient = (dy: Tensor, saved: FusedConv2dSaved, attrs: FusedIm2colConv2DAttrs) =>
    {dz: Tensor, dPreluActivationWeights?: Tensor};

/** Every fused activation's gradient, keyed by name: a missing one is a compile error. */
const ACTIVATION_GRADIENTS: Record<FusedActivation, ActivationGradient> = {
  linear: dy => ({dz: dy}),
  relu: (dy, {y}) => ({dz: mul(dy, step(y))}),
  relu6: (dy, {y}) => ({dz: mul(dy, cast(logicalAnd(greater(y, 0), less(y, 6)), 'float32'))}),
  // y = exp(z) - 1 below zero, so dy/dz = y + 1 there.
  elu: (dy, {y}) => ({dz: where(greater(y, 0), dy, mul(dy, add(y, 1)))}),
  sigmoid: (dy, {y}) => ({dz: mul(dy, mul(y, sub(scalar(1), y)))}),
  leakyrelu: (dy, saved, attrs) => {
    const positive = greater(preActivation(saved, attrs), 0);
    return {dz: where(positive, dy, mul(dy, attrs.leakyreluAlpha ?? DEFAULT_LEAKYRELU_ALPHA))};
  },
  prelu: (dy, saved, attrs) => {
    const z = preActivation(saved, attrs);
    const positive = greater(z, 0);
    const alpha = saved.preluActivationWeights as Tensor;
    const alignedAlpha = reshape(alpha, alignedOperandShape(alpha.shape, attrs.dataFormat));
    return {
      dz: where(positive, dy, mul(dy, alignedAlpha)),
      dPreluActivationWeights: reduceToOperand(where(positive, mul(dy, 0), mul(dy, z)),
                                               alpha.shape, attrs.dataFormat)
    };
  },
};

export function fusedConv2dBackprop(dy: Tensor4D, saved: FusedConv2dSaved,
                                    attrs: FusedIm2colConv2DAttrs): FusedConv2dGradients {
  const {bias} = saved;
  if (dy.size === 0) {
    // An empty output: every gradient is zero (tfjs's webgl ops cannot reshape empty tensors
    // with an inferred size).
    const alpha = saved.preluActivationWeights;
    return {dx: zeros(saved.x.shape), dFilter: zeros(saved.filter.shape),
            dBias: bias == null ? undefined : zeros(bias.shape),
            dPreluActivationWeights: alpha == null ? undefined : zeros(alpha.shape)};
  }
  const activation = (attrs.activation ?? 'linear') as FusedActivation;
  const {dz, dPreluActivationWeights} = ACTIVATION_GRADIENTS[activation](dy, saved, attrs);
  const conv = conv2dBackprop(dz as Tensor4D, saved.x, saved.filter, attrs);
  return {
    dx: conv.dx(),
    dFilter: conv.dFilter(),
    dBias: bias == null ? undefined : reduceToOperand(dz, bias.shape, attrs.dataFormat),
    dPreluActivationWeights
  };
}

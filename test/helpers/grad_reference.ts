/**
 * Differentiable references for the gradient suites, built from tfjs ops whose gradients
 * tfjs has: a dilated filter becomes the dense filter with zeros between its taps (a 0/1
 * matMul, so its gradient picks the taps back out), after which tf.conv2d runs with dilation
 * 1, which tfjs differentiates for any stride. Padding is made explicit (helpers/conv_cases).
 */
import type * as tfType from '@tensorflow/tfjs-core';
import {axisPadding, Conv1dCase, Conv2dCase, conv1dWidthPadding, outputSize} from './conv_cases';

type Tf = typeof tfType;

/** The filter with dilation-1 zeros between its taps: [(kh-1)dh+1, (kw-1)dw+1, inC, outC]. */
export function expandFilter(tf: Tf, filter: tfType.Tensor4D, dilations: [number, number]):
    tfType.Tensor4D {
  const [kh, kw, inC, outC] = filter.shape;
  const [dh, dw] = dilations;
  const [eh, ew] = [(kh - 1) * dh + 1, (kw - 1) * dw + 1];
  const scatter = tf.buffer([eh * ew, kh * kw], 'float32');
  for (let i = 0; i < kh; i++) {
    for (let j = 0; j < kw; j++) scatter.set(1, i * dh * ew + j * dw, i * kw + j);
  }
  return tf.reshape(tf.matMul(scatter.toTensor() as tfType.Tensor2D,
                              tf.reshape(filter, [kh * kw, inC * outC])), [eh, ew, inC, outC]);
}

/** The case's convolution of `x` and `filter` (tensors of the case's shapes), differentiable. */
export function referenceConv2dOf(tf: Tf, c: Omit<Conv2dCase, 'x' | 'filter'>,
                                  x: tfType.Tensor4D, filter: tfType.Tensor4D): tfType.Tensor4D {
  const nhwc = c.dataFormat === 'NHWC';
  const xNhwc = nhwc ? x : tf.transpose(x, [0, 2, 3, 1]);
  const sizes = [xNhwc.shape[1], xNhwc.shape[2]];
  // A rounding mode can add a last window that hangs past the padded input; tfjs's conv2d
  // gradient drops such windows, so their reach becomes explicit zero padding instead.
  const pads = [0, 1].map(axis => {
    const effective = c.dilations[axis] * (c.filterShape[axis] - 1) + 1;
    const [before, after] = axisPadding(c.pad, axis as 0 | 1, sizes[axis], effective,
                                        c.strides[axis], c.dataFormat);
    const out = outputSize(sizes[axis], c.filterShape[axis], c.strides[axis], c.dilations[axis],
                           [before, after], c.pad, c.dimRoundingMode);
    return [before, Math.max(after, (out - 1) * c.strides[axis] + effective - sizes[axis] - before)];
  }) as [number, number][];
  const out = tf.conv2d(xNhwc, expandFilter(tf, filter, c.dilations), c.strides,
                        [[0, 0], pads[0], pads[1], [0, 0]], 'NHWC', 1);
  return nhwc ? out : tf.transpose(out, [0, 3, 1, 2]);
}

/** The conv1d case's convolution, differentiable (a conv2d on an image of height 1). */
export function referenceConv1dOf(tf: Tf, c: Omit<Conv1dCase, 'x' | 'filter'>,
                                  x: tfType.Tensor3D, filter: tfType.Tensor3D): tfType.Tensor3D {
  const nwc = c.dataFormat === 'NWC';
  const xNwc = nwc ? x : tf.transpose(x, [0, 2, 1]);
  const [kernel] = c.filterShape;
  const padding = conv1dWidthPadding({pad: c.pad, dataFormat: c.dataFormat, dilation: c.dilation,
                                      kernel, width: xNwc.shape[1], stride: c.stride});
  const out = tf.conv2d(tf.expandDims(xNwc, 1) as tfType.Tensor4D,
                        expandFilter(tf, tf.expandDims(filter, 0) as tfType.Tensor4D,
                                     [1, c.dilation]),
                        [1, c.stride], [[0, 0], [0, 0], padding, [0, 0]], 'NHWC', 1);
  const squeezed = tf.squeeze(out, [1]) as tfType.Tensor3D;
  return nwc ? squeezed : tf.transpose(squeezed, [0, 2, 1]);
}

/**
 * Central-difference gradient of `loss` at `count` seeded coordinates of input `which`,
 * the loss summed in double precision; returns the coordinates and the estimates.
 */
export function numericalGradient(tf: Tf, loss: (inputs: tfType.Tensor[]) => number,
                                  inputs: tfType.Tensor[], which: number, coords: number[],
                                  eps = 1e-2): number[] {
  const base = inputs[which].dataSync().slice();
  return coords.map(i => {
    const at = (delta: number) => {
      const values = base.slice();
      values[i] += delta;
      const moved = tf.tensor(values, inputs[which].shape);
      const copy = inputs.slice();
      copy[which] = moved;
      const value = loss(copy);
      moved.dispose();
      return value;
    };
    return (at(eps) - at(-eps)) / (2 * eps);
  });
}

/** Σ y·r in double precision: a loss whose gradient with respect to y is r. */
export function weightedSum(y: tfType.Tensor, r: Float32Array): number {
  const values = y.dataSync();
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += values[i] * r[i];
  return sum;
}

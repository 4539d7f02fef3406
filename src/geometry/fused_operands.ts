/**
 * The fused convolution's extra operands: activation names, and how a bias or PReLU-weights
 * tensor broadcasts against the output.
 */
import {describe, fail} from './checks';
import type {Conv2dDataFormat, ConvGeometry} from './types';

/** The activations a fused convolution applies in its epilogue (tfjs's `fused` names). */
export const FUSED_ACTIVATIONS =
    ['linear', 'relu', 'relu6', 'prelu', 'leakyrelu', 'elu', 'sigmoid'] as const;
export type FusedActivation = typeof FUSED_ACTIVATIONS[number];

/** tf.leakyRelu's default slope, used where a fused call gives no `leakyreluAlpha`. */
export const DEFAULT_LEAKYRELU_ALPHA = 0.2;

/**
 * A bias or PReLU-weights shape as the rank-4 shape it broadcasts with against the output
 * (data-format order). As in tfjs's fused kernels, a 1-D operand of length > 1 runs along
 * the channels in NCHW too; otherwise shapes align from the right.
 */
export function alignedOperandShape(operandShape: number[], dataFormat: Conv2dDataFormat):
    number[] {
  const shape = dataFormat === 'NCHW' && operandShape.length === 1 && operandShape[0] !== 1 ?
      [operandShape[0], 1, 1] : operandShape;
  return [...new Array(Math.max(0, 4 - shape.length)).fill(1), ...shape];
}

/** Element strides of a broadcast operand along each output axis (0 where it broadcasts). */
export interface OperandStrides {
  batch: number;
  height: number;
  width: number;
  channel: number;
}

/** Strides of an operand that broadcasts to the output; null when it does not. */
export function operandStrides(operandShape: number[], g: ConvGeometry): OperandStrides | null {
  const dataFormat = g.dataFormat === 'channelsLast' ? 'NHWC' : 'NCHW';
  return broadcastStrides(alignedOperandShape(operandShape, dataFormat), g);
}

/** Strides of an operand of the aligned (rank-4) shape `aligned`; null unless it broadcasts. */
export function broadcastStrides(aligned: number[], g: ConvGeometry): OperandStrides | null {
  const dataFormat = g.dataFormat === 'channelsLast' ? 'NHWC' : 'NCHW';
  if (aligned.length !== 4) return null;
  const strides = [0, 0, 0, 0];
  let size = 1;
  for (let d = 3; d >= 0; d--) {
    if (aligned[d] !== 1 && aligned[d] !== g.outShape[d]) return null;
    strides[d] = aligned[d] === 1 ? 0 : size;
    size *= aligned[d];
  }
  const [b, h, w, c] = dataFormat === 'NHWC' ? strides : [strides[0], strides[2], strides[3],
                                                           strides[1]];
  return {batch: b, height: h, width: w, channel: c};
}

/**
 * Checks the fused convolution's extra arguments against the output of the convolution
 * (call after checkConv2dArgs): the activation name, a bias that broadcasts to the output
 * (scalar or [outChannels] for NCHW, as tfjs), and PReLU weights (scalar, [1] or
 * [outChannels], or rank 3 broadcasting to the output) that 'prelu' needs.
 */
export function checkFusedConv2dArgs(opName: string, g: ConvGeometry, fused: {
  activation: unknown, biasShape?: number[], alphaShape?: number[], leakyreluAlpha?: unknown
}): void {
  const {activation, biasShape, alphaShape, leakyreluAlpha} = fused;
  if (!(FUSED_ACTIVATIONS as readonly unknown[]).includes(activation)) {
    fail(opName, `argument 'activation' must be one of ${FUSED_ACTIVATIONS.join(', ')}, but ` +
        `got ${describe(activation)}.`);
  }
  const out = `the output [${g.outShape}]`;
  if (biasShape != null) {
    const nchwOk = biasShape.length === 0 ||
        (biasShape.length === 1 && (biasShape[0] === 1 || biasShape[0] === g.outChannels));
    if (g.dataFormat === 'channelsFirst' ? !nchwOk : operandStrides(biasShape, g) == null) {
      fail(opName, `argument 'bias' must be a scalar or [${g.outChannels}]` +
          (g.dataFormat === 'channelsLast' ? ` or broadcast to ${out}` : '') +
          `, but got shape [${biasShape}].`);
    }
  }
  if (activation === 'prelu') {
    const ok = alphaShape != null && (alphaShape.length === 0 ||
        (alphaShape.length === 1 && (alphaShape[0] === 1 || alphaShape[0] === g.outChannels)) ||
        (alphaShape.length === 3 && operandStrides(alphaShape, g) != null));
    if (!ok) {
      fail(opName, `argument 'preluActivationWeights' must be a scalar, [1], ` +
          `[${g.outChannels}] or rank 3 broadcasting to ${out} for activation 'prelu', ` +
          `but got ${alphaShape == null ? 'none' : `shape [${alphaShape}]`}.`);
    }
  }
  if (leakyreluAlpha != null && typeof leakyreluAlpha !== 'number') {
    fail(opName, `argument 'leakyreluAlpha' must be a number, but got ${describe(leakyreluAlpha)}.`);
  }
}


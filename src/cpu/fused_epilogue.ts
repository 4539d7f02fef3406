/**
 * The fused kernel's epilogue on the CPU: bias and activation applied to each output tile
 * right after its GEMM, with tfjs's cpu formulas, so no extra pass over the output runs.
 */
import {ConvGeometry, DEFAULT_LEAKYRELU_ALPHA, FusedActivation, operandStrides, OperandStrides} from '../geometry';
import type {TileEpilogue} from './conv_im2col';

/** A bias or PReLU-weights operand: its values and shape (broadcast to the output). */
export interface EpilogueOperand {
  values: Float32Array;
  shape: number[];
}

/** The activation of one value; `alpha` is its PReLU weight (unused otherwise). */
function activationOf(activation: FusedActivation, leakyreluAlpha = DEFAULT_LEAKYRELU_ALPHA):
    (v: number, alpha: number) => number {
  switch (activation) {
    case 'linear': return v => v;
    case 'relu': return v => (v < 0 ? 0 : v);
    case 'relu6': return v => Math.min(Math.max(v, 0), 6);
    case 'prelu': return (v, alpha) => (v < 0 ? alpha * v : v);
    case 'leakyrelu': return v => (v < 0 ? leakyreluAlpha * v : v);
    case 'elu': return v => (v >= 0 ? v : Math.exp(v) - 1);
    case 'sigmoid': return v => 1 / (1 + Math.exp(-v));
  }
}

const NO_STRIDES: OperandStrides = {batch: 0, height: 0, width: 0, channel: 0};
const ZERO = new Float32Array(1);

/** Bias + activation over the tiles of a convolution of geometry `g`. */
export function biasActivationEpilogue(g: ConvGeometry, fused: {
  activation: FusedActivation, bias?: EpilogueOperand, alpha?: EpilogueOperand,
  leakyreluAlpha?: number
}): TileEpilogue {
  const activate = activationOf(fused.activation, fused.leakyreluAlpha);
  const bias = fused.bias?.values ?? ZERO;
  const alpha = fused.alpha?.values ?? ZERO;
  // Shapes were checked by the op; a missing operand reads its one zero.
  const bs = fused.bias ? operandStrides(fused.bias.shape, g) ?? NO_STRIDES : NO_STRIDES;
  const as = fused.alpha ? operandStrides(fused.alpha.shape, g) ?? NO_STRIDES : NO_STRIDES;
  const {outWidth, outChannels} = g;
  const rowsPerImage = g.outHeight * outWidth;
  const channelsLast = g.dataFormat === 'channelsLast';
  const channelStep = channelsLast ? 1 : rowsPerImage;
  return (out, flatRow0, rows) => {
    for (let row = flatRow0; row < flatRow0 + rows; row++) {
      const image = Math.floor(row / rowsPerImage);
      const position = row - image * rowsPerImage;
      const outRow = Math.floor(position / outWidth);
      const outCol = position - outRow * outWidth;
      let b = image * bs.batch + outRow * bs.height + outCol * bs.width;
      let a = image * as.batch + outRow * as.height + outCol * as.width;
      let o = channelsLast ? row * outChannels : image * outChannels * rowsPerImage + position;
      for (let c = 0; c < outChannels; c++) {
        out[o] = activate(out[o] + bias[b], alpha[a]);
        o += channelStep;
        b += bs.channel;
        a += as.channel;
      }
    }
  };
}

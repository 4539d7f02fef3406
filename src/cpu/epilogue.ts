/**
 * The epilogue on the CPU: bias and activation applied to each output tile right after its
 * GEMM, while it is in cache, with tfjs's cpu formulas, so no extra pass over the output runs.
 */
import type {Epilogue, EpilogueOperand} from '../engine/epilogue';
import {broadcastStrides, ConvGeometry, FusedActivation, OperandStrides} from '../geometry';
import type {TileEpilogue} from './conv_im2col';

/** The activation of one value; `weight` is its PReLU weight (unused otherwise). */
type Activate = (v: number, weight: number) => number;

/** Every activation, keyed by name: a missing one is a compile error. */
const ACTIVATIONS: Record<FusedActivation, (leakyreluAlpha: number) => Activate> = {
  linear: () => v => v,
  relu: () => v => (v < 0 ? 0 : v),
  relu6: () => v => Math.min(Math.max(v, 0), 6),
  prelu: () => (v, weight) => (v < 0 ? weight * v : v),
  leakyrelu: alpha => v => (v < 0 ? alpha * v : v),
  elu: () => v => (v >= 0 ? v : Math.exp(v) - 1),
  sigmoid: () => v => 1 / (1 + Math.exp(-v)),
};

const NO_STRIDES: OperandStrides = {batch: 0, height: 0, width: 0, channel: 0};
const ZERO = new Float32Array(1);

/** The per-tile function of `epilogue` for a convolution of geometry `g`. */
export function cpuTileEpilogue<T>(epilogue: Epilogue<T>, g: ConvGeometry,
                                   valuesOf: (tensor: T) => Float32Array): TileEpilogue {
  const activate = ACTIVATIONS[epilogue.activation](epilogue.leakyreluAlpha);
  // A missing operand reads its one zero; shapes were checked by the op.
  const operand = (o: EpilogueOperand<T> | null): [Float32Array, OperandStrides] => o == null ?
      [ZERO, NO_STRIDES] : [valuesOf(o.tensor), broadcastStrides(o.broadcastShape, g) ?? NO_STRIDES];
  const [bias, bs] = operand(epilogue.bias);
  const [weights, ws] = operand(epilogue.preluWeights);
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
      let w = image * ws.batch + outRow * ws.height + outCol * ws.width;
      let o = channelsLast ? row * outChannels : image * outChannels * rowsPerImage + position;
      for (let c = 0; c < outChannels; c++) {
        out[o] = activate(out[o] + bias[b], weights[w]);
        o += channelStep;
        b += bs.channel;
        w += ws.channel;
      }
    }
  };
}

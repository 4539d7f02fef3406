/**
 * The one description of a fused convolution's epilogue (bias, then activation, as tfjs's
 * fused kernels apply them), computed once per call from the kernel's inputs and attributes.
 * Each backend driver turns it into its own form: a per-tile function on the CPU
 * (cpu/epilogue.ts), a GEMM shader snippet on WebGL (webgl/epilogue.ts).
 */
import {alignedOperandShape, Conv2dDataFormat, DEFAULT_LEAKYRELU_ALPHA, FusedActivation} from '../geometry';

/** A bias or PReLU-weights tensor and the shape it broadcasts as against the output. */
export interface EpilogueOperand<T> {
  readonly tensor: T;
  /**
   * Rank 4, in the output's data-format order: a 1-D operand of length > 1 runs along the
   * channels (NCHW too), other shapes align from the right, as in tfjs's fused kernels.
   */
  readonly broadcastShape: number[];
}

export interface Epilogue<T> {
  readonly activation: FusedActivation;
  readonly bias: EpilogueOperand<T> | null;
  /** The PReLU weights; only with activation 'prelu'. */
  readonly preluWeights: EpilogueOperand<T> | null;
  /** The negative slope of 'leakyrelu' (tf.leakyRelu's default where none is given). */
  readonly leakyreluAlpha: number;
}

/**
 * The epilogue of a fused call, or null where it does nothing (linear, no bias). Operand
 * shapes must have been checked (checkFusedConv2dArgs).
 */
export function epilogueOf<T extends {shape: number[]}>(
    inputs: {bias?: T | null, preluActivationWeights?: T | null},
    attrs: {activation?: string | null, leakyreluAlpha?: number | null,
            dataFormat: Conv2dDataFormat}): Epilogue<T> | null {
  const activation = (attrs.activation ?? 'linear') as FusedActivation;
  const operand = (tensor: T | null | undefined): EpilogueOperand<T> | null => tensor == null ?
      null : {tensor, broadcastShape: alignedOperandShape(tensor.shape, attrs.dataFormat)};
  const bias = operand(inputs.bias);
  if (activation === 'linear' && bias == null) return null;
  return {
    activation,
    bias,
    preluWeights: activation === 'prelu' ? operand(inputs.preluActivationWeights) : null,
    leakyreluAlpha: attrs.leakyreluAlpha ?? DEFAULT_LEAKYRELU_ALPHA
  };
}

/**
 * The epilogue on WebGL: the GEMM shader adds the bias and applies the activation (tfjs's
 * packed snippets) as it writes each output texel, so a fused conv is the same single pass.
 */
import type {TensorInfo} from '@tensorflow/tfjs-core';
import {getKernel} from '@tensorflow/tfjs-core';
import type {MathBackendWebGL} from '@tensorflow/tfjs-backend-webgl';
import type {Epilogue, EpilogueOperand} from '../engine/epilogue';
import type {ConvEpilogue} from './conv_im2col';
import {PACKED_ACTIVATIONS} from './programs/activations_glsl';

const withoutLeadingOnes = (shape: number[]) => shape.slice(shape.findIndex(d => d !== 1) >>> 0);

/**
 * The shader's form of `epilogue`, and the intermediate tensors made for it (the caller
 * disposes them). The shader broadcasts operands from the right, so an operand whose
 * broadcast shape differs (a 1-D NCHW operand runs along the channels) goes in reshaped to
 * it through tfjs's Reshape kernel, a view where the texture allows.
 */
export function webglEpilogue(epilogue: Epilogue<TensorInfo> | null, backend: MathBackendWebGL):
    {epilogue: ConvEpilogue, intermediates: TensorInfo[]} {
  const intermediates: TensorInfo[] = [];
  if (epilogue == null) return {epilogue: {}, intermediates};
  const broadcast = (o: EpilogueOperand<TensorInfo> | null): TensorInfo | undefined => {
    if (o == null) return undefined;
    const shape = withoutLeadingOnes(o.broadcastShape);
    const given = withoutLeadingOnes(o.tensor.shape);
    if (shape.length === given.length && shape.every((d, i) => d === given[i])) return o.tensor;
    const view = getKernel('Reshape', 'webgl')!.kernelFunc(
        {inputs: {x: o.tensor}, backend, attrs: {shape}}) as TensorInfo;
    intermediates.push(view);
    return view;
  };
  const {activation} = epilogue;
  let leakyreluAlpha: TensorInfo | undefined;
  if (activation === 'leakyrelu') {
    leakyreluAlpha = backend.makeTensorInfo([], 'float32',
                                            new Float32Array([epilogue.leakyreluAlpha]));
    intermediates.push(leakyreluAlpha);
  }
  try {
    return {
      epilogue: {
        bias: broadcast(epilogue.bias),
        activation: activation === 'linear' ? undefined : PACKED_ACTIVATIONS[activation],
        preluActivationWeights: broadcast(epilogue.preluWeights),
        leakyreluAlpha
      },
      intermediates
    };
  } catch (error) {
    for (const t of intermediates) backend.disposeIntermediateTensorInfo(t);
    throw error;
  }
}

import type {KernelConfig, KernelFunc, TensorInfo} from '@tensorflow/tfjs-core';
import {getKernel} from '@tensorflow/tfjs-core';
import type {MathBackendWebGL} from '@tensorflow/tfjs-backend-webgl';
import {checkedConv2dGeometry, DEFAULT_LEAKYRELU_ALPHA, FusedActivation, GeometryOf} from '../../geometry';
import {FusedIm2colConv2D, FusedIm2colConv2DAttrs, FusedIm2colConv2DInputs} from '../../kernel_names';
import {countKernelCall} from '../../stats';
import {checkWebGL2, runIm2colConv} from '../conv_im2col';
import {PACKED_ACTIVATIONS} from '../programs/activations_glsl';

/**
 * The webgl fused convolution: bias and activation in the GEMM shader's epilogue. Counted
 * under `kernelName`; as tfjs's `FusedConv2D` stand-in it uses tfjs's geometry and reports
 * each call (`onCall`) so that its gradient can be bridged.
 */
export function webglFusedConv2dKernel(
    kernelName: string, geometryOf: GeometryOf,
    onCall?: (result: TensorInfo, attrs: FusedIm2colConv2DAttrs) => void): KernelFunc {
  return ((args: {
    inputs: FusedIm2colConv2DInputs, backend: MathBackendWebGL, attrs: FusedIm2colConv2DAttrs
  }): TensorInfo => {
    const {inputs: {x, filter, bias, preluActivationWeights}, backend, attrs} = args;
    checkWebGL2(kernelName);
    const geometry = geometryOf(x.shape, filter.shape, attrs);
    const activation = (attrs.activation ?? 'linear') as FusedActivation;
    const intermediates: TensorInfo[] = [];
    // The shader broadcasts operands against the output from the right; a 1-D NCHW operand
    // runs along the channels (as in tfjs's fused kernels), so it goes in as [C, 1, 1]
    // through tfjs's Reshape kernel (a view where the texture allows).
    const aligned = (t: TensorInfo): TensorInfo => {
      if (attrs.dataFormat !== 'NCHW' || t.shape.length !== 1 || t.shape[0] === 1) return t;
      const view = getKernel('Reshape', 'webgl')!.kernelFunc(
          {inputs: {x: t}, backend, attrs: {shape: [t.shape[0], 1, 1]}}) as TensorInfo;
      intermediates.push(view);
      return view;
    };
    const leakyreluAlpha = activation === 'leakyrelu' ?
        backend.makeTensorInfo([], 'float32',
                               new Float32Array([attrs.leakyreluAlpha ?? DEFAULT_LEAKYRELU_ALPHA])) :
        undefined;
    if (leakyreluAlpha != null) intermediates.push(leakyreluAlpha);
    try {
      const {out, workspaceBytes} = runIm2colConv(backend, x, filter, geometry, {
        bias: bias == null ? undefined : aligned(bias),
        activation: activation === 'linear' ? undefined : PACKED_ACTIVATIONS[activation],
        preluActivationWeights: activation === 'prelu' && preluActivationWeights != null ?
            aligned(preluActivationWeights) : undefined,
        leakyreluAlpha
      });
      countKernelCall(kernelName, 'webgl', workspaceBytes);
      onCall?.(out, attrs);
      return out;
    } finally {
      for (const t of intermediates) backend.disposeIntermediateTensorInfo(t);
    }
  }) as unknown as KernelFunc;
}

export const fusedIm2colConv2DConfig: KernelConfig = {
  kernelName: FusedIm2colConv2D,
  backendName: 'webgl',
  kernelFunc: webglFusedConv2dKernel(FusedIm2colConv2D, checkedConv2dGeometry)
};

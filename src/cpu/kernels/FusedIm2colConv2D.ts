import type {KernelConfig, KernelFunc, TensorInfo} from '@tensorflow/tfjs-core';
import type {MathBackendCPU} from '@tensorflow/tfjs-backend-cpu';
import {checkedConv2dGeometry, FusedActivation, GeometryOf} from '../../geometry';
import {FusedIm2colConv2D, FusedIm2colConv2DAttrs, FusedIm2colConv2DInputs} from '../../kernel_names';
import {countKernelCall} from '../../stats';
import {convolveIm2col} from '../conv_im2col';
import {biasActivationEpilogue, EpilogueOperand} from '../fused_epilogue';

/**
 * The cpu fused convolution (bias and activation in the GEMM epilogue), counted under
 * `kernelName`; as tfjs's `FusedConv2D` stand-in it uses tfjs's geometry and reports each
 * call (`onCall`) so that its gradient can be bridged.
 */
export function cpuFusedConv2dKernel(
    kernelName: string, geometryOf: GeometryOf,
    onCall?: (result: TensorInfo, attrs: FusedIm2colConv2DAttrs) => void): KernelFunc {
  return ((args: {
    inputs: FusedIm2colConv2DInputs, backend: MathBackendCPU, attrs: FusedIm2colConv2DAttrs
  }): TensorInfo => {
    const {inputs: {x, filter, bias, preluActivationWeights}, backend, attrs} = args;
    const geometry = geometryOf(x.shape, filter.shape, attrs);
    const operand = (t?: TensorInfo): EpilogueOperand | undefined => t == null ? undefined :
        {values: backend.data.get(t.dataId).values as Float32Array, shape: t.shape};
    const epilogue = biasActivationEpilogue(geometry, {
      activation: (attrs.activation ?? 'linear') as FusedActivation,
      bias: operand(bias),
      alpha: attrs.activation === 'prelu' ? operand(preluActivationWeights) : undefined,
      leakyreluAlpha: attrs.leakyreluAlpha
    });
    const {out, workspaceBytes} = convolveIm2col(
        backend.data.get(x.dataId).values as Float32Array,
        backend.data.get(filter.dataId).values as Float32Array, geometry, epilogue);
    countKernelCall(kernelName, 'cpu', workspaceBytes);
    const result = backend.makeTensorInfo(geometry.outShape, 'float32', out);
    onCall?.(result, attrs);
    return result;
  }) as unknown as KernelFunc;
}

export const fusedIm2colConv2DConfig: KernelConfig = {
  kernelName: FusedIm2colConv2D,
  backendName: 'cpu',
  kernelFunc: cpuFusedConv2dKernel(FusedIm2colConv2D, checkedConv2dGeometry)
};

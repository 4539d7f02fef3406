import type {KernelConfig, KernelFunc, TensorInfo} from '@tensorflow/tfjs-core';
import type {MathBackendCPU} from '@tensorflow/tfjs-backend-cpu';
import {checkedConv2dGeometry, GeometryOf} from '../../geometry';
import {Im2colConv2D, Im2colConv2DAttrs, Im2colConv2DInputs} from '../../kernel_names';
import {countKernelCall} from '../../stats';
import {convolveIm2col} from '../conv_im2col';

/**
 * The cpu 2D convolution, counted under `kernelName`. Its own kernel uses the true geometry;
 * as tfjs's `Conv2D` stand-in (useIm2col) it uses tfjs's.
 */
export function cpuConv2dKernel(kernelName: string, geometryOf: GeometryOf): KernelFunc {
  return ((args: {inputs: Im2colConv2DInputs, backend: MathBackendCPU, attrs: Im2colConv2DAttrs}):
      TensorInfo => {
    const {inputs: {x, filter}, backend, attrs} = args;
    const geometry = geometryOf(x.shape, filter.shape, attrs);
    const {out, workspaceBytes} = convolveIm2col(
        backend.data.get(x.dataId).values as Float32Array,
        backend.data.get(filter.dataId).values as Float32Array, geometry);
    countKernelCall(kernelName, 'cpu', workspaceBytes);
    return backend.makeTensorInfo(geometry.outShape, 'float32', out);
  }) as unknown as KernelFunc;
}

export const im2colConv2DConfig: KernelConfig = {
  kernelName: Im2colConv2D,
  backendName: 'cpu',
  kernelFunc: cpuConv2dKernel(Im2colConv2D, checkedConv2dGeometry)
};

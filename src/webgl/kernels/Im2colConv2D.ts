import type {KernelConfig, KernelFunc, TensorInfo} from '@tensorflow/tfjs-core';
import type {MathBackendWebGL} from '@tensorflow/tfjs-backend-webgl';
import {checkedConv2dGeometry, GeometryOf} from '../../geometry';
import {Im2colConv2D, Im2colConv2DAttrs, Im2colConv2DInputs} from '../../kernel_names';
import {countKernelCall} from '../../stats';
import {checkWebGL2, runIm2colConv} from '../conv_im2col';

/**
 * The webgl 2D convolution, counted under `kernelName`. Its own kernel uses the true
 * geometry; as tfjs's `Conv2D` stand-in (useIm2col) it uses tfjs's.
 */
export function webglConv2dKernel(kernelName: string, geometryOf: GeometryOf): KernelFunc {
  return ((args: {inputs: Im2colConv2DInputs, backend: MathBackendWebGL, attrs: Im2colConv2DAttrs}):
      TensorInfo => {
    const {inputs: {x, filter}, backend, attrs} = args;
    checkWebGL2(kernelName);
    const geometry = geometryOf(x.shape, filter.shape, attrs);
    const {out, workspaceBytes} = runIm2colConv(backend, x, filter, geometry);
    countKernelCall(kernelName, 'webgl', workspaceBytes);
    return out;
  }) as unknown as KernelFunc;
}

export const im2colConv2DConfig: KernelConfig = {
  kernelName: Im2colConv2D,
  backendName: 'webgl',
  kernelFunc: webglConv2dKernel(Im2colConv2D, checkedConv2dGeometry)
};

import type {KernelConfig, KernelFunc, TensorInfo} from '@tensorflow/tfjs-core';
import type {MathBackendWebGL} from '@tensorflow/tfjs-backend-webgl';
import {conv1dAs2d, conv2dGeometry, takeHandedOverGeometry} from '../../geometry';
import {Im2colConv1D, Im2colConv1DAttrs, Im2colConv1DInputs} from '../../kernel_names';
import {countKernelCall} from '../../stats';
import {checkWebGL2, runIm2colConv} from '../conv_im2col';

/**
 * A 1D convolution runs as the 2D one on an image of height 1: the same textures seen with
 * a height axis of 1, and a rank-3 output written directly in its layout.
 */
export function im2colConv1D(args: {
  inputs: Im2colConv1DInputs, backend: MathBackendWebGL, attrs: Im2colConv1DAttrs
}): TensorInfo {
  const {inputs: {x, filter}, backend, attrs} = args;
  checkWebGL2(Im2colConv1D);
  const {x4dShape, filter4dShape, settings2d} = conv1dAs2d(x.shape, filter.shape, attrs);
  const geometry = takeHandedOverGeometry(attrs) ??
      conv2dGeometry(x4dShape, filter4dShape, settings2d);
  const {out, workspaceBytes} = runIm2colConv(
      backend, {...x, shape: x4dShape}, {...filter, shape: filter4dShape}, geometry, {}, 3);
  countKernelCall(Im2colConv1D, 'webgl', workspaceBytes);
  return out;
}

export const im2colConv1DConfig: KernelConfig = {
  kernelName: Im2colConv1D,
  backendName: 'webgl',
  kernelFunc: im2colConv1D as unknown as KernelFunc
};

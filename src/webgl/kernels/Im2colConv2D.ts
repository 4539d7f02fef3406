import type {KernelConfig, KernelFunc, TensorInfo} from '@tensorflow/tfjs-core';
import type {MathBackendWebGL} from '@tensorflow/tfjs-backend-webgl';
import {conv2dGeometry} from '../../conv_geometry';
import {Im2colConv2D, Im2colConv2DAttrs, Im2colConv2DInputs} from '../../kernel_names';
import {countKernelCall} from '../../stats';
import {checkWebGL2, runIm2colConv} from '../conv_im2col';

export function im2colConv2D(args: {
  inputs: Im2colConv2DInputs, backend: MathBackendWebGL, attrs: Im2colConv2DAttrs
}): TensorInfo {
  const {inputs: {x, filter}, backend, attrs} = args;
  checkWebGL2(Im2colConv2D);
  const geometry = conv2dGeometry(x.shape, filter.shape, attrs);
  const {out, workspaceBytes} = runIm2colConv(backend, x, filter, geometry);
  countKernelCall(Im2colConv2D, 'webgl', workspaceBytes);
  return out;
}

export const im2colConv2DConfig: KernelConfig = {
  kernelName: Im2colConv2D,
  backendName: 'webgl',
  kernelFunc: im2colConv2D as unknown as KernelFunc
};

import type {KernelConfig, KernelFunc, TensorInfo} from '@tensorflow/tfjs-core';
import type {MathBackendCPU} from '@tensorflow/tfjs-backend-cpu';
import {conv2dGeometry} from '../../conv_geometry';
import {Im2colConv2D, Im2colConv2DAttrs, Im2colConv2DInputs} from '../../kernel_names';
import {countKernelCall} from '../../stats';
import {convolveIm2col} from '../conv_im2col';

export function im2colConv2D(args: {
  inputs: Im2colConv2DInputs, backend: MathBackendCPU, attrs: Im2colConv2DAttrs
}): TensorInfo {
  const {inputs: {x, filter}, backend, attrs} = args;
  const geometry = conv2dGeometry(x.shape, filter.shape, attrs);
  const {out, workspaceBytes} = convolveIm2col(
      backend.data.get(x.dataId).values as Float32Array,
      backend.data.get(filter.dataId).values as Float32Array, geometry);
  countKernelCall(Im2colConv2D, 'cpu', workspaceBytes);
  return backend.makeTensorInfo(geometry.outShape, 'float32', out);
}

export const im2colConv2DConfig: KernelConfig = {
  kernelName: Im2colConv2D,
  backendName: 'cpu',
  kernelFunc: im2colConv2D as unknown as KernelFunc
};

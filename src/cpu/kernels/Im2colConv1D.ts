import type {KernelConfig, KernelFunc, TensorInfo} from '@tensorflow/tfjs-core';
import type {MathBackendCPU} from '@tensorflow/tfjs-backend-cpu';
import {conv1dGeometry, takeHandedOverGeometry} from '../../geometry';
import {Im2colConv1D, Im2colConv1DAttrs, Im2colConv1DInputs} from '../../kernel_names';
import {countKernelCall} from '../../stats';
import {convolveIm2col} from '../conv_im2col';

/** A 1D convolution runs as the 2D one on an image of height 1 (same buffers, no copy). */
export function im2colConv1D(args: {
  inputs: Im2colConv1DInputs, backend: MathBackendCPU, attrs: Im2colConv1DAttrs
}): TensorInfo {
  const {inputs: {x, filter}, backend, attrs} = args;
  const geometry = takeHandedOverGeometry(attrs) ?? conv1dGeometry(x.shape, filter.shape, attrs);
  const {out, workspaceBytes} = convolveIm2col(
      backend.data.get(x.dataId).values as Float32Array,
      backend.data.get(filter.dataId).values as Float32Array, geometry);
  countKernelCall(Im2colConv1D, 'cpu', workspaceBytes);
  const {batchSize, outWidth, outChannels} = geometry;
  const outShape = attrs.dataFormat === 'NWC' ? [batchSize, outWidth, outChannels] :
                                                [batchSize, outChannels, outWidth];
  return backend.makeTensorInfo(outShape, 'float32', out);
}

export const im2colConv1DConfig: KernelConfig = {
  kernelName: Im2colConv1D,
  backendName: 'cpu',
  kernelFunc: im2colConv1D as unknown as KernelFunc
};

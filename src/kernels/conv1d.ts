import type {KernelConfig, TensorInfo} from '@tensorflow/tfjs-core';
import type {BackendDriver} from '../engine/driver';
import {conv1dGeometry, takeHandedOverGeometry} from '../geometry';
import {Im2colConv1D, Im2colConv1DAttrs, Im2colConv1DInputs} from '../kernel_names';
import {countKernelCall} from '../stats';
import {whereSupported} from './support';

/** `Im2colConv1D`: the 2D convolution of an image of height 1, with a rank-3 output. */
export function conv1dKernel(driver: BackendDriver): KernelConfig {
  const kernelFunc = (args: {inputs: Im2colConv1DInputs, backend: never, attrs: Im2colConv1DAttrs}):
      TensorInfo => {
    const {inputs: {x, filter}, backend, attrs} = args;
    const g = takeHandedOverGeometry(attrs) ?? conv1dGeometry(x.shape, filter.shape, attrs);
    const {batchSize, outWidth, outChannels} = g;
    const outShape = attrs.dataFormat === 'NWC' ? [batchSize, outWidth, outChannels] :
                                                  [batchSize, outChannels, outWidth];
    const {out, workspaceBytes} = driver.conv(backend, x, filter, g, outShape, null);
    countKernelCall(Im2colConv1D, driver.backendName, workspaceBytes);
    return out;
  };
  return {kernelName: Im2colConv1D, backendName: driver.backendName,
          kernelFunc: whereSupported(driver, Im2colConv1D, false, kernelFunc)};
}

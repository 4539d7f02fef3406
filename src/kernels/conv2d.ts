import type {KernelConfig, TensorInfo} from '@tensorflow/tfjs-core';
import type {BackendDriver} from '../engine/driver';
import type {GeometryOf} from '../geometry';
import type {Im2colConv2DAttrs, Im2colConv2DInputs} from '../kernel_names';
import {countKernelCall} from '../stats';
import {whereSupported} from './support';

/**
 * A 2D convolution kernel on `driver`'s backend, counted under `kernelName`: this package's
 * `Im2colConv2D` (the geometry its op handed over), or the stand-in for tfjs's `Conv2D`
 * (`standIn`: tfjs's own geometry, so shapes stay exactly tfjs's). The same with a depthwise
 * geometryOf is the depthwise kernel (`Im2colDepthwiseConv2D`, `DepthwiseConv2dNative`).
 */
export function conv2dKernel(driver: BackendDriver, kernelName: string, geometryOf: GeometryOf,
                             standIn = false): KernelConfig {
  const kernelFunc = (args: {inputs: Im2colConv2DInputs, backend: never, attrs: Im2colConv2DAttrs}):
      TensorInfo => {
    const {inputs: {x, filter}, backend, attrs} = args;
    const g = geometryOf(x.shape, filter.shape, attrs);
    const {out, workspaceBytes} = driver.conv(backend, x, filter, g, g.outShape, null);
    countKernelCall(kernelName, driver.backendName, workspaceBytes);
    return out;
  };
  return {kernelName, backendName: driver.backendName,
          kernelFunc: whereSupported(driver, kernelName, standIn, kernelFunc)};
}

import type {KernelConfig, TensorInfo} from '@tensorflow/tfjs-core';
import type {BackendDriver} from '../engine/driver';
import type {GeometryOf} from '../geometry';
import type {Im2colConv2DBackpropInputAttrs, Im2colConv2DBackpropInputInputs} from '../kernel_names';
import {countKernelCall} from '../stats';
import {whereSupported} from './support';

/**
 * A transposed 2D convolution kernel (`Im2colConv2DBackpropInput`, or a stand-in for
 * `Conv2DBackpropInput` / `DepthwiseConv2dNativeBackpropInput` with tfjs's geometry): the
 * input gradient of the convolution of an x of `inputShape` by `filter`.
 */
export function conv2dTransposeKernel(driver: BackendDriver, kernelName: string,
                                      geometryOf: GeometryOf, standIn = false): KernelConfig {
  const kernelFunc = (args: {inputs: Im2colConv2DBackpropInputInputs, backend: never,
                             attrs: Im2colConv2DBackpropInputAttrs}): TensorInfo => {
    const {inputs: {dy, filter}, backend, attrs} = args;
    // tfjs's backprop kernels have no dilations; the depthwise one has no data format.
    const g = geometryOf(attrs.inputShape, filter.shape, {
      ...attrs, dataFormat: attrs.dataFormat ?? 'NHWC', dilations: attrs.dilations ?? 1
    });
    const {out, workspaceBytes} = driver.convTranspose(backend, dy, filter, g);
    countKernelCall(kernelName, driver.backendName, workspaceBytes);
    return out;
  };
  return {kernelName, backendName: driver.backendName,
          kernelFunc: whereSupported(driver, kernelName, standIn, kernelFunc)};
}

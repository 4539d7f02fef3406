import {KernelConfig, TensorInfo, util} from '@tensorflow/tfjs-core';
import {state} from '../state';
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
    if (!util.arraysEqual(dy.shape, g.outShape)) {
      // tfjs's kernels read a dy of another shape by its own strides, in the window the
      // geometry spans: that is tfjs's behaviour to keep, so tfjs's kernel runs it.
      const original = standIn ? state.replaced.get(`${driver.backendName}/${kernelName}`) : null;
      if (original != null) return original.kernelFunc(args as never) as TensorInfo;
      throw new Error(`${kernelName}: input 'dy' must have the shape [${g.outShape}] of the ` +
          `convolution of an input of shape [${attrs.inputShape}], but got [${dy.shape}].`);
    }
    const {out, workspaceBytes} = driver.convTranspose(backend, dy, filter, g);
    countKernelCall(kernelName, driver.backendName, workspaceBytes);
    return out;
  };
  return {kernelName, backendName: driver.backendName,
          kernelFunc: whereSupported(driver, kernelName, standIn, kernelFunc)};
}

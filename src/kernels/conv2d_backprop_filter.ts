import {KernelConfig, TensorInfo, util} from '@tensorflow/tfjs-core';
import type {Conv2DBackpropFilterAttrs, DepthwiseConv2dNativeBackpropFilterAttrs} from '@tensorflow/tfjs-core';
import {state} from '../state';
import type {BackendDriver} from '../engine/driver';
import type {GeometryOf} from '../geometry';
import {countKernelCall} from '../stats';
import {whereSupported} from './support';

type BackpropFilterAttrs =
    Conv2DBackpropFilterAttrs & Partial<DepthwiseConv2dNativeBackpropFilterAttrs>;

/**
 * The stand-in for a filter-gradient kernel (`Conv2DBackpropFilter`, or with a depthwise
 * geometryOf `DepthwiseConv2dNativeBackpropFilter`; tfjs's geometry): the gradient of the
 * convolution of x by a filter of `filterShape`, from its dy. The wasm backend has neither.
 */
export function conv2dBackpropFilterKernel(driver: BackendDriver, kernelName: string,
                                           geometryOf: GeometryOf): KernelConfig {
  const convFilterGradient = driver.convFilterGradient!;
  const kernelFunc = (args: {inputs: {x: TensorInfo, dy: TensorInfo}, backend: never,
                             attrs: BackpropFilterAttrs}): TensorInfo => {
    const {inputs: {x, dy}, backend, attrs} = args;
    // Conv2DBackpropFilter has no dilations; the depthwise one has no data format.
    const g = geometryOf(x.shape, attrs.filterShape, {
      ...attrs, dataFormat: attrs.dataFormat ?? 'NHWC', dilations: attrs.dilations ?? 1
    });
    if (!util.arraysEqual(dy.shape, g.outShape)) {
      const original = state.replaced.get(`${driver.backendName}/${kernelName}`);
      if (original != null) return original.kernelFunc(args as never) as TensorInfo;
      throw new Error(`${kernelName}: input 'dy' must have the shape [${g.outShape}] of the ` +
          `convolution of x of shape [${x.shape}] by a filter of shape ` +
          `[${attrs.filterShape}], but got [${dy.shape}].`);
    }
    const {out, workspaceBytes} = convFilterGradient(backend, x, dy, g, attrs.filterShape);
    countKernelCall(kernelName, driver.backendName, workspaceBytes);
    return out;
  };
  return {kernelName, backendName: driver.backendName,
          kernelFunc: whereSupported(driver, kernelName, true, kernelFunc)};
}

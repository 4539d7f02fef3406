import {FusedConv2D, KernelConfig, TensorInfo} from '@tensorflow/tfjs-core';
import type {BackendDriver} from '../engine/driver';
import {epilogueOf} from '../engine/epilogue';
import type {GeometryOf} from '../geometry';
import type {FusedIm2colConv2DAttrs, FusedIm2colConv2DInputs} from '../kernel_names';
import {state} from '../state';
import {countKernelCall} from '../stats';
import {whereSupported} from './support';

/**
 * A fused 2D convolution kernel (bias and activation in the GEMM's epilogue), counted under
 * `kernelName`: plain or grouped, or depthwise with a depthwise geometryOf. As the stand-in
 * for tfjs's `FusedConv2D` (`standIn`) it tells the fused
 * gradient bridge of each call (state.onFusedConv2dCall), so that its gradient can be im2col.
 */
export function fusedConv2dKernel(driver: BackendDriver, kernelName: string,
                                  geometryOf: GeometryOf, standIn = false): KernelConfig {
  const kernelFunc = (args: {
    inputs: FusedIm2colConv2DInputs, backend: never, attrs: FusedIm2colConv2DAttrs
  }): TensorInfo => {
    const {inputs, backend, attrs} = args;
    const {x, filter} = inputs;
    const g = geometryOf(x.shape, filter.shape, attrs);
    const {out, workspaceBytes} =
        driver.conv(backend, x, filter, g, g.outShape, epilogueOf(inputs, attrs));
    countKernelCall(kernelName, driver.backendName, workspaceBytes);
    if (standIn && kernelName === FusedConv2D) state.onFusedConv2dCall?.(out, attrs);
    return out;
  };
  // A call handed to the backend's own kernel gets the im2col gradient all the same.
  const onHanded = standIn && kernelName === FusedConv2D ?
      (out: TensorInfo, args: {attrs: FusedIm2colConv2DAttrs}) =>
          state.onFusedConv2dCall?.(out, args.attrs) :
      undefined;
  return {kernelName, backendName: driver.backendName,
          kernelFunc: whereSupported(driver, kernelName, standIn, kernelFunc, onHanded)};
}

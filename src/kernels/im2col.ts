import type {KernelConfig, TensorInfo} from '@tensorflow/tfjs-core';
import type {BackendDriver} from '../engine/driver';
import {im2colGeometry} from '../geometry';
import {Im2col, Im2colAttrs, Im2colInputs} from '../kernel_names';
import {countKernelCall} from '../stats';
import {whereSupported} from './support';

/** `Im2col`: the patch matrix, [batch, outHeight * outWidth, kh * kw * inChannels]. */
export function im2colKernel(driver: BackendDriver): KernelConfig {
  const kernelFunc = (args: {inputs: Im2colInputs, backend: never, attrs: Im2colAttrs}):
      TensorInfo => {
    const {inputs: {x}, backend, attrs} = args;
    const {out, workspaceBytes} = driver.im2col(backend, x, im2colGeometry(x.shape, attrs).geometry);
    countKernelCall(Im2col, driver.backendName, workspaceBytes);
    return out;
  };
  return {kernelName: Im2col, backendName: driver.backendName,
          kernelFunc: whereSupported(driver, Im2col, false, kernelFunc)};
}

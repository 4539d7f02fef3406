import type {KernelConfig, TensorInfo} from '@tensorflow/tfjs-core';
import {util} from '@tensorflow/tfjs-core';
import type {BackendDriver} from '../engine/driver';
import {im2colGeometry} from '../geometry';
import {Col2im, Col2imAttrs, Col2imInputs} from '../kernel_names';
import {countKernelCall} from '../stats';
import {whereSupported} from './support';

/** `Col2im`, Im2col's adjoint: patch-matrix rows added back onto an image of `inputShape`. */
export function col2imKernel(driver: BackendDriver): KernelConfig {
  const kernelFunc = (args: {inputs: Col2imInputs, backend: never, attrs: Col2imAttrs}):
      TensorInfo => {
    const {inputs: {x}, backend, attrs} = args;
    const {geometry, outShape} = im2colGeometry(attrs.inputShape, attrs);
    util.assert(util.arraysEqual(x.shape, outShape), () => `${Col2im}: argument 'x' must be ` +
        `the patch matrix [${outShape}] of an input [${attrs.inputShape}], but got [${x.shape}].`);
    const image = driver.col2im(backend, x, geometry);
    countKernelCall(Col2im, driver.backendName, 0);
    return image;
  };
  return {kernelName: Col2im, backendName: driver.backendName,
          kernelFunc: whereSupported(driver, Col2im, false, kernelFunc)};
}

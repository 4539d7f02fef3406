import type {KernelConfig, KernelFunc, TensorInfo} from '@tensorflow/tfjs-core';
import type {MathBackendWebGL} from '@tensorflow/tfjs-backend-webgl';
import {im2colGeometry} from '../../geometry';
import {Im2col, Im2colAttrs, Im2colInputs} from '../../kernel_names';
import {countKernelCall} from '../../stats';
import {checkWebGL2, runIm2col} from '../conv_im2col';

export function im2col(args: {inputs: Im2colInputs, backend: MathBackendWebGL, attrs: Im2colAttrs}):
    TensorInfo {
  const {inputs: {x}, backend, attrs} = args;
  checkWebGL2(Im2col);
  const {geometry, outShape} = im2colGeometry(x.shape, attrs);
  const patch = runIm2col(backend, x, geometry);
  countKernelCall(Im2col, 'webgl', 4 * outShape[0] * outShape[1] * outShape[2]);
  return patch;
}

export const im2colConfig: KernelConfig = {
  kernelName: Im2col,
  backendName: 'webgl',
  kernelFunc: im2col as unknown as KernelFunc
};

import type {KernelConfig, KernelFunc, TensorInfo} from '@tensorflow/tfjs-core';
import {util} from '@tensorflow/tfjs-core';
import type {MathBackendWebGL} from '@tensorflow/tfjs-backend-webgl';
import {im2colGeometry} from '../../geometry';
import {Col2im, Col2imAttrs, Col2imInputs} from '../../kernel_names';
import {countKernelCall} from '../../stats';
import {Col2imProgram} from '../programs/col2im_gpu';

export function col2im(args: {inputs: Col2imInputs, backend: MathBackendWebGL, attrs: Col2imAttrs}):
    TensorInfo {
  const {inputs: {x}, backend, attrs} = args;
  const {geometry, outShape} = im2colGeometry(attrs.inputShape, attrs);
  util.assert(util.arraysEqual(x.shape, outShape), () => `${Col2im}: argument 'x' must be ` +
      `the patch matrix [${outShape}] of an input [${attrs.inputShape}], but got [${x.shape}].`);
  countKernelCall(Col2im, 'webgl', 0);
  return backend.runWebGLProgram(new Col2imProgram(geometry), [x], 'float32');
}

export const col2imConfig: KernelConfig = {
  kernelName: Col2im,
  backendName: 'webgl',
  kernelFunc: col2im as unknown as KernelFunc
};

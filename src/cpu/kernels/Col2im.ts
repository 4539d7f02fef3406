import type {KernelConfig, KernelFunc, TensorInfo} from '@tensorflow/tfjs-core';
import {util} from '@tensorflow/tfjs-core';
import type {MathBackendCPU} from '@tensorflow/tfjs-backend-cpu';
import {im2colGeometry} from '../../geometry';
import {Col2im, Col2imAttrs, Col2imInputs} from '../../kernel_names';
import {countKernelCall} from '../../stats';
import {addPatchesToImage} from '../patch_matrix';

export function col2im(args: {inputs: Col2imInputs, backend: MathBackendCPU, attrs: Col2imAttrs}):
    TensorInfo {
  const {inputs: {x}, backend, attrs} = args;
  const {geometry, outShape} = im2colGeometry(attrs.inputShape, attrs);
  util.assert(util.arraysEqual(x.shape, outShape), () => `${Col2im}: argument 'x' must be ` +
      `the patch matrix [${outShape}] of an input [${attrs.inputShape}], but got [${x.shape}].`);
  const image = new Float32Array(util.sizeFromShape(attrs.inputShape));
  addPatchesToImage(backend.data.get(x.dataId).values as Float32Array, geometry, image);
  countKernelCall(Col2im, 'cpu', 0);
  return backend.makeTensorInfo(attrs.inputShape, 'float32', image);
}

export const col2imConfig: KernelConfig = {
  kernelName: Col2im,
  backendName: 'cpu',
  kernelFunc: col2im as unknown as KernelFunc
};

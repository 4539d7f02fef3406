import type {KernelConfig, KernelFunc, TensorInfo} from '@tensorflow/tfjs-core';
import type {MathBackendCPU} from '@tensorflow/tfjs-backend-cpu';
import {im2colGeometry} from '../../geometry';
import {Im2col, Im2colAttrs, Im2colInputs} from '../../kernel_names';
import {countKernelCall} from '../../stats';
import {patchMatrix} from '../patch_matrix';

export function im2col(args: {inputs: Im2colInputs, backend: MathBackendCPU, attrs: Im2colAttrs}):
    TensorInfo {
  const {inputs: {x}, backend, attrs} = args;
  const {geometry, outShape} = im2colGeometry(x.shape, attrs);
  const patch = patchMatrix(backend.data.get(x.dataId).values as Float32Array, geometry);
  countKernelCall(Im2col, 'cpu', patch.byteLength);
  return backend.makeTensorInfo(outShape, 'float32', patch);
}

export const im2colConfig: KernelConfig = {
  kernelName: Im2col,
  backendName: 'cpu',
  kernelFunc: im2col as unknown as KernelFunc
};

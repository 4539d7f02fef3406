import {Identity, KernelConfig, TensorInfo} from '@tensorflow/tfjs-core';
import type {BackendWasm} from '@tensorflow/tfjs-backend-wasm';
import {state} from '../state';

/**
 * Identity on the wasm backend as the cpu backend has it: the output shares the input's
 * memory (the backend counts the references, as its Reshape does) instead of a copy. tfjs
 * clones every tensor a gradient saves for the backward pass through Identity, so with
 * wasm's own copying kernel a training step holds each saved activation twice, and tfjs's
 * IS_TEST leak check counts the copies a custom gradient (tf.fused.conv2d's) saves as leaks.
 * Strings keep tfjs's kernel.
 */
export const sharedIdentityConfig: KernelConfig = {
  kernelName: Identity,
  backendName: 'wasm',
  kernelFunc: (args => {
    const {inputs: {x}, backend} = args as unknown as {inputs: {x: TensorInfo}, backend: BackendWasm};
    if (x.dtype === 'string') {
      return state.replaced.get(`wasm/${Identity}`)!.kernelFunc(args) as TensorInfo;
    }
    backend.incRef(x.dataId);
    return {dataId: x.dataId, shape: x.shape, dtype: x.dtype};
  }),
};

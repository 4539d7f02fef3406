/** Small helpers shared by the ops: input conversion and kernel availability. */
import {getBackend, getKernel, Tensor, tensor, TensorLike} from '@tensorflow/tfjs-core';
import {checkIm2colFlags} from '../config';
import {checkFloatDtype} from '../geometry';
import {state} from '../state';

/**
 * A float32 tensor from a Tensor or TensorLike; a non-float tensor is refused (tf.conv2d
 * would silently compute on it). Tensors made here are disposed by the op's scope.
 */
export function toFloatTensor(value: Tensor | TensorLike, argName: string, opName: string): Tensor {
  if (value instanceof Tensor) {
    checkFloatDtype(opName, argName, value.dtype);
    return value;
  }
  if (value == null || typeof value === 'string' ||
      (typeof value !== 'number' && typeof (value as ArrayLike<unknown>).length !== 'number')) {
    throw new Error(`${opName}: argument '${argName}' must be a Tensor or TensorLike, but got ` +
        `${value === null ? 'null' : typeof value}.`);
  }
  return tensor(value as TensorLike, undefined, 'float32');
}

/**
 * Kernels found per backend: tfjs's getKernel builds a string key per lookup, a noticeable
 * share of a small convolution's time. (A kernel unregistered later fails in runKernel.)
 */
const foundKernels = new Map<string, Set<string>>();

/**
 * Fails clearly, before any work, when a flag of this package holds a value it refuses or
 * the active backend has no kernel of this package.
 */
export function checkKernelAvailable(opName: string, kernelName: string): void {
  checkIm2colFlags();
  const backend = getBackend();
  let found = foundKernels.get(backend);
  if (found?.has(kernelName)) return;
  if (getKernel(kernelName, backend) == null) {
    const loaded = [...state.drivers.keys()].map(name => `'${name}'`).join(', ');
    throw new Error(`${opName}: the active backend '${backend}' has no ${kernelName} kernel; ` +
        `the tfjs-im2col drivers loaded are for ${loaded || 'no backend'}.`);
  }
  if (found === undefined) foundKernels.set(backend, found = new Set());
  found.add(kernelName);
}

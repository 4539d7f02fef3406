import {util} from '@tensorflow/tfjs-core';
import type {KernelConfig, TensorInfo} from '@tensorflow/tfjs-core';
import type {BackendDriver} from '../engine/driver';
import {conv3dGeometry} from '../geometry';
import type {Im2colConv3DAttrs, Im2colConv3DBackpropFilterAttrs, Im2colConv3DBackpropFilterInputs, Im2colConv3DBackpropInputAttrs, Im2colConv3DBackpropInputInputs, Im2colConv3DInputs, Vol2colAttrs, Vol2colInputs} from '../kernel_names';
import {Im2colConv3DBackpropFilter, Vol2col} from '../kernel_names';
import {countKernelCall} from '../stats';
import {whereSupported} from './support';

/** The 3D attributes as the geometry reads them: tfjs's Conv3D ones have no data format. */
function settingsOf(attrs: Partial<Im2colConv3DAttrs>): Im2colConv3DAttrs {
  return {strides: attrs.strides ?? 1, pad: attrs.pad ?? 'valid',
          dataFormat: attrs.dataFormat ?? 'NDHWC', dilations: attrs.dilations ?? 1};
}

/** A 3D convolution kernel: `Im2colConv3D`, or the stand-in for tfjs's `Conv3D`. */
export function conv3dKernel(driver: BackendDriver, kernelName: string, standIn = false):
    KernelConfig {
  const kernelFunc = (args: {inputs: Im2colConv3DInputs, backend: never,
                             attrs: Im2colConv3DAttrs}): TensorInfo => {
    const {inputs: {x, filter}, backend, attrs} = args;
    const g = conv3dGeometry(x.shape, filter.shape, settingsOf(attrs));
    const {out, workspaceBytes} = driver.conv3d(backend, x, filter, g);
    countKernelCall(kernelName, driver.backendName, workspaceBytes);
    return out;
  };
  return {kernelName, backendName: driver.backendName,
          kernelFunc: whereSupported(driver, kernelName, standIn, kernelFunc)};
}

/**
 * A transposed 3D convolution kernel: `Im2colConv3DBackpropInput`, or the stand-in for
 * tfjs's `Conv3DBackpropInputV2`.
 */
export function conv3dTransposeKernel(driver: BackendDriver, kernelName: string,
                                      standIn = false): KernelConfig {
  const kernelFunc = (args: {inputs: Im2colConv3DBackpropInputInputs, backend: never,
                             attrs: Im2colConv3DBackpropInputAttrs}): TensorInfo => {
    const {inputs: {dy, filter}, backend, attrs} = args;
    const g = conv3dGeometry(attrs.inputShape, filter.shape, settingsOf(attrs));
    const {out, workspaceBytes} = driver.conv3dTranspose(backend, dy, filter, g);
    countKernelCall(kernelName, driver.backendName, workspaceBytes);
    return out;
  };
  return {kernelName, backendName: driver.backendName,
          kernelFunc: whereSupported(driver, kernelName, standIn, kernelFunc)};
}

/** `Vol2col`: the 3D patch matrix, [batch, outD * outH * outW, fd * fh * fw * inChannels]. */
export function vol2colKernel(driver: BackendDriver): KernelConfig {
  const kernelFunc = (args: {inputs: Vol2colInputs, backend: never, attrs: Vol2colAttrs}):
      TensorInfo => {
    const {inputs: {x}, backend, attrs} = args;
    const inChannels = attrs.dataFormat === 'NCDHW' ? x.shape[1] : x.shape[4];
    const g = conv3dGeometry(x.shape, [...attrs.filterSize, inChannels, 1], settingsOf(attrs));
    const {out, workspaceBytes} = driver.vol2col(backend, x, g);
    countKernelCall(Vol2col, driver.backendName, workspaceBytes);
    return out;
  };
  return {kernelName: Vol2col, backendName: driver.backendName,
          kernelFunc: whereSupported(driver, Vol2col, false, kernelFunc)};
}

/** `Im2colConv3DBackpropFilter`: the 3D filter gradient, where the driver has it. */
export function conv3dBackpropFilterKernel(driver: BackendDriver): KernelConfig {
  const convFilterGradient = driver.conv3dFilterGradient!;
  const kernelFunc = (args: {inputs: Im2colConv3DBackpropFilterInputs, backend: never,
                             attrs: Im2colConv3DBackpropFilterAttrs}): TensorInfo => {
    const {inputs: {x, dy}, backend, attrs} = args;
    const g = conv3dGeometry(x.shape, attrs.filterShape, settingsOf(attrs));
    if (!util.arraysEqual(dy.shape, g.outShape)) {
      throw new Error(`${Im2colConv3DBackpropFilter}: input 'dy' must have the shape ` +
          `[${g.outShape}] of the convolution of x of shape [${x.shape}] by a filter of ` +
          `shape [${attrs.filterShape}], but got [${dy.shape}].`);
    }
    const {out, workspaceBytes} = convFilterGradient(backend, x, dy, g);
    countKernelCall(Im2colConv3DBackpropFilter, driver.backendName, workspaceBytes);
    return out;
  };
  return {kernelName: Im2colConv3DBackpropFilter, backendName: driver.backendName,
          kernelFunc: whereSupported(driver, Im2colConv3DBackpropFilter, false, kernelFunc)};
}

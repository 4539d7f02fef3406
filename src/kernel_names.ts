/**
 * Names, inputs and attributes of the kernels this package registers. `Im2colConv2D` takes
 * exactly the inputs and attributes of tfjs's `Conv2D`, so it can stand in for it.
 */
import type {Conv2DAttrs, TensorInfo} from '@tensorflow/tfjs-core';
import type {Conv1dSettings} from './conv_geometry';

export const Im2colConv2D = 'Im2colConv2D';
export interface Im2colConv2DInputs {
  x: TensorInfo;
  filter: TensorInfo;
}
export type Im2colConv2DAttrs = Conv2DAttrs;

/** A 1D convolution; x is [batch, width, inChannels] (NWC) or [batch, inChannels, width] (NCW). */
export const Im2colConv1D = 'Im2colConv1D';
export type Im2colConv1DInputs = Im2colConv2DInputs;
export type Im2colConv1DAttrs = Conv1dSettings;

/** The patch matrix itself: [batch, outHeight * outWidth, filterHeight * filterWidth * inChannels]. */
export const Im2col = 'Im2col';
export type Im2colInputs = Pick<Im2colConv2DInputs, 'x'>;
export interface Im2colAttrs {
  filterSize: [number, number];
  strides: number | [number, number];
  pad: Conv2DAttrs['pad'];
  dilations: number | [number, number];
  dataFormat: 'NHWC' | 'NCHW';
}

/**
 * Names, inputs and attributes of the kernels this package registers. `Im2colConv2D` takes
 * exactly the inputs and attributes of tfjs's `Conv2D`, so it can stand in for it.
 */
import type {Conv2DAttrs, FusedConv2DAttrs, FusedConv2DInputs, TensorInfo} from '@tensorflow/tfjs-core';
import type {Conv1dSettings} from './geometry';

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
  /** The output-size rounding of the convolution the patches belong to (gradients pass it). */
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

/**
 * A 2D convolution with bias and activation applied in the GEMM epilogue. Takes exactly the
 * inputs and attributes of tfjs's `FusedConv2D`, so it can stand in for it.
 */
export const FusedIm2colConv2D = 'FusedIm2colConv2D';
export type FusedIm2colConv2DInputs = FusedConv2DInputs;
export type FusedIm2colConv2DAttrs = FusedConv2DAttrs;

/**
 * The adjoint of Im2col: scatter-adds patch-matrix rows `[batch, outHeight * outWidth,
 * filterHeight * filterWidth * inChannels]` back into an image of `inputShape` (NHWC or NCHW).
 * It turns the patch-matrix gradient into the input gradient.
 */
export const Col2im = 'Col2im';
export interface Col2imInputs {
  x: TensorInfo;
}
export interface Col2imAttrs extends Im2colAttrs {
  inputShape: [number, number, number, number];
}

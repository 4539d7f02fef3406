/**
 * Names, inputs and attributes of the kernels this package registers. `Im2colConv2D` takes
 * exactly the inputs and attributes of tfjs's `Conv2D`, so it can stand in for it.
 */
import type {Conv2DAttrs, Conv2DBackpropInputAttrs, DepthwiseConv2dNativeAttrs, DepthwiseConv2dNativeInputs, FusedConv2DAttrs, FusedConv2DInputs, FusedDepthwiseConv2DAttrs, FusedDepthwiseConv2DInputs, TensorInfo} from '@tensorflow/tfjs-core';
import type {Conv1dSettings, Conv3dSettings} from './geometry';

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

/**
 * A depthwise 2D convolution (filter [kh, kw, inChannels, channelMultiplier]). Takes exactly
 * the inputs and attributes of tfjs's `DepthwiseConv2dNative`, so it can stand in for it.
 */
export const Im2colDepthwiseConv2D = 'Im2colDepthwiseConv2D';
export type Im2colDepthwiseConv2DInputs = DepthwiseConv2dNativeInputs;
export type Im2colDepthwiseConv2DAttrs = DepthwiseConv2dNativeAttrs;

/** A depthwise convolution with bias and activation; the inputs and attributes of `FusedDepthwiseConv2D`. */
export const FusedIm2colDepthwiseConv2D = 'FusedIm2colDepthwiseConv2D';
export type FusedIm2colDepthwiseConv2DInputs = FusedDepthwiseConv2DInputs;
export type FusedIm2colDepthwiseConv2DAttrs = FusedDepthwiseConv2DAttrs;

/**
 * The transposed 2D convolution (the input gradient of the convolution of an x of
 * `inputShape`): the inputs and attributes of tfjs's `Conv2DBackpropInput`, plus optional
 * dilations. Groups are inferred from the filter's depth as in the forward convolution.
 */
export const Im2colConv2DBackpropInput = 'Im2colConv2DBackpropInput';
export interface Im2colConv2DBackpropInputInputs {
  dy: TensorInfo;
  filter: TensorInfo;
}
export interface Im2colConv2DBackpropInputAttrs extends Conv2DBackpropInputAttrs {
  dilations?: number | [number, number];
}

/** A 3D convolution: the inputs and attributes of tfjs's `Conv3D` (NCDHW too). */
export const Im2colConv3D = 'Im2colConv3D';
export type Im2colConv3DInputs = Im2colConv2DInputs;
export type Im2colConv3DAttrs = Conv3dSettings;

/**
 * The transposed 3D convolution: the inputs of tfjs's `Conv3DBackpropInputV2` ({dy,
 * filter}); its attributes plus dilations and the data format.
 */
export const Im2colConv3DBackpropInput = 'Im2colConv3DBackpropInput';
export type Im2colConv3DBackpropInputInputs = Im2colConv2DBackpropInputInputs;
export interface Im2colConv3DBackpropInputAttrs extends Conv3dSettings {
  inputShape: [number, number, number, number, number];
}

/**
 * The 3D convolution's filter gradient from x and dy (vol2col's patch rows a tile at a time,
 * within IM2COL_WORKSPACE_BYTES): the attributes of `Im2colConv3D` plus the filter's shape.
 */
export const Im2colConv3DBackpropFilter = 'Im2colConv3DBackpropFilter';
export interface Im2colConv3DBackpropFilterInputs {
  x: TensorInfo;
  dy: TensorInfo;
}
export interface Im2colConv3DBackpropFilterAttrs extends Conv3dSettings {
  filterShape: [number, number, number, number, number];
}

/** The 3D patch matrix: [batch, outDepth * outHeight * outWidth, fd * fh * fw * inChannels]. */
export const Vol2col = 'Vol2col';
export type Vol2colInputs = Pick<Im2colConv2DInputs, 'x'>;
export interface Vol2colAttrs extends Conv3dSettings {
  filterSize: [number, number, number];
}

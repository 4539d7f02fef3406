/**
 * The types every part of the engine shares: padding forms, data formats, the settings a
 * convolution kernel receives, and the geometry (tfjs's Conv2DInfo) derived from them.
 *
 *   patch row  = one output position (outRow, outCol), `outHeight * outWidth` rows per image
 *   patch col  = one filter tap (kh, kw, c), in tfjs's filter order [kh][kw][c]
 *   input read = (outRow * strideHeight - padTop + kh * dilationHeight,
 *                 outCol * strideWidth - padLeft + kw * dilationWidth, c), zero outside.
 */
import type {backend_util} from '@tensorflow/tfjs-core';

export type ExplicitPadding = [[number, number], [number, number], [number, number], [number, number]];
export type Conv2dPad = 'valid' | 'same' | number | ExplicitPadding;
export type Conv1dExplicitPadding = [[number, number], [number, number], [number, number]];
export type Conv1dPad = 'valid' | 'same' | 'causal' | number | Conv1dExplicitPadding;
export type DimRoundingMode = 'floor' | 'round' | 'ceil';
export type Conv2dDataFormat = 'NHWC' | 'NCHW';
export type Conv1dDataFormat = 'NWC' | 'NCW';

/**
 * A 2D convolution: tfjs's own description (shapes, strides, dilations, pads) and its
 * channel groups. Input and output channels split into `groups` equal groups, each group's
 * outputs reading only its inputs (TensorFlow's grouped conv2d): 1 for a plain convolution,
 * inChannels for a depthwise one. `filterShape` is then [filterHeight, filterWidth,
 * inChannels / groups, outChannels]; a depthwise filter [kh, kw, inChannels, multiplier] is
 * read as [kh, kw, 1, inChannels * multiplier], the same values in the same order.
 */
export interface ConvGeometry extends backend_util.Conv2DInfo {
  groups: number;
}

/** tfjs's description of a 3D convolution (NDHWC or NCDHW). */
export type Conv3dGeometry = backend_util.Conv3DInfo;

/** The settings of a 2D convolution, as the Conv2D kernel receives them. */
export interface Conv2dSettings {
  strides: number | [number, number];
  pad: Conv2dPad;
  dataFormat: Conv2dDataFormat;
  dilations: number | [number, number];
  dimRoundingMode?: DimRoundingMode;
}

/** How a kernel derives its geometry: conv2dGeometry, or tfjsConv2dGeometry for stand-ins. */
export type GeometryOf = (xShape: number[], filterShape: number[], settings: Conv2dSettings) =>
    ConvGeometry;

/** The settings of a 1D convolution, as the Im2colConv1D kernel receives them. */
export interface Conv1dSettings {
  stride: number;
  pad: Conv1dPad;
  dataFormat: Conv1dDataFormat;
  dilation: number;
  dimRoundingMode?: DimRoundingMode;
}

/** The settings of a transposed 2D convolution: the input gradient of the convolution of an x of `inputShape`. */
export interface Conv2dTransposeSettings extends Conv2dSettings {
  /** The transposed convolution's output shape: the shape of the forward convolution's x. */
  inputShape: [number, number, number, number];
}

export type Conv3dDataFormat = 'NDHWC' | 'NCDHW';
export type Conv3dPad = 'valid' | 'same';

/** The settings of a 3D convolution, as the Conv3D kernel receives them (plus NCDHW). */
export interface Conv3dSettings {
  strides: number | [number, number, number];
  pad: Conv3dPad;
  dataFormat: Conv3dDataFormat;
  dilations: number | [number, number, number];
}

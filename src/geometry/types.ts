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

/** tfjs's own description of a 2D convolution (shapes, strides, dilations, pads). */
export type ConvGeometry = backend_util.Conv2DInfo;

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

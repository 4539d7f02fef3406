/**
 * Output sizes and pads of a convolution: tfjs's formulas, the 1D-as-2D mapping, and the
 * patch matrix's shape.
 */
import {backend_util} from '@tensorflow/tfjs-core';
import type {Conv1dSettings, Conv2dDataFormat, Conv2dPad, Conv2dSettings, ConvGeometry, DimRoundingMode} from './types';

/** Output size along one axis: tfjs's formulas for 'same', 'valid' and explicit pads. */
function outSize(pad: 'same' | 'valid' | 'explicit', inSize: number, stride: number,
                 effectiveFilter: number, padTotal: number, rounding?: DimRoundingMode): number {
  if (pad === 'same') return Math.ceil(inSize / stride);
  if (pad === 'valid') return Math.ceil((inSize - effectiveFilter + 1) / stride);
  const size = (inSize - effectiveFilter + padTotal) / stride + 1;
  return rounding === 'round' ? Math.round(size) : rounding === 'ceil' ? Math.ceil(size) :
      rounding === 'floor' ? Math.floor(size) : Math.trunc(size);
}

/** The pad 'same' adds along one axis, split with the odd one after, as tfjs. */
function samePadding(inSize: number, outSize: number, stride: number, effectiveFilter: number):
    [number, number] {
  const total = Math.max(0, (outSize - 1) * stride + effectiveFilter - inSize);
  const before = Math.floor(total / 2);
  return [before, total - before];
}

/**
 * Shapes, pads and output size of a 2D convolution (rank-4 input, checked arguments), in
 * tfjs's Conv2DInfo form and with its formulas, except that a numeric pad pads each axis by
 * itself: tfjs 4.22 sizes both axes of a numeric pad from the filter height and height
 * stride, wrong for non-square filters/strides. Computed here rather than by
 * computeConv2DInfo because a small convolution feels its cost (test/geometry.test.ts pins
 * the two together).
 */
export function conv2dGeometry(xShape: number[], filterShape: number[],
                               settings: Conv2dSettings): ConvGeometry {
  const {pad, strides, dilations, dimRoundingMode} = settings;
  const channelsLast = settings.dataFormat === 'NHWC';
  const [batchSize, d1, d2, d3] = xShape;
  const [inHeight, inWidth, inChannels] = channelsLast ? [d1, d2, d3] : [d2, d3, d1];
  const [filterHeight, filterWidth, filterInChannels, outChannels] = filterShape;
  const strideHeight = typeof strides === 'number' ? strides : strides[0];
  const strideWidth = typeof strides === 'number' ? strides : strides[1];
  const dilationHeight = typeof dilations === 'number' ? dilations : dilations[0];
  const dilationWidth = typeof dilations === 'number' ? dilations : dilations[1];
  const effectiveFilterHeight = (filterHeight - 1) * dilationHeight + 1;
  const effectiveFilterWidth = (filterWidth - 1) * dilationWidth + 1;

  const padKind = typeof pad === 'string' ? pad : 'explicit';
  let heightPad: [number, number] = [0, 0], widthPad: [number, number] = [0, 0];
  if (typeof pad === 'number') {
    heightPad = widthPad = [pad, pad];
  } else if (Array.isArray(pad)) {
    [heightPad, widthPad] = channelsLast ? [pad[1], pad[2]] : [pad[2], pad[3]];
  }
  const outHeight = outSize(padKind, inHeight, strideHeight, effectiveFilterHeight,
                            heightPad[0] + heightPad[1], dimRoundingMode);
  const outWidth = outSize(padKind, inWidth, strideWidth, effectiveFilterWidth,
                           widthPad[0] + widthPad[1], dimRoundingMode);
  if (pad === 'same') {
    heightPad = samePadding(inHeight, outHeight, strideHeight, effectiveFilterHeight);
    widthPad = samePadding(inWidth, outWidth, strideWidth, effectiveFilterWidth);
  }
  const [top, bottom] = heightPad, [left, right] = widthPad;
  const type = pad === 'same' ? 'SAME' :
      top === 0 && bottom === 0 && left === 0 && right === 0 ? 'VALID' : 'EXPLICIT';
  return {
    batchSize, dataFormat: channelsLast ? 'channelsLast' : 'channelsFirst',
    inHeight, inWidth, inChannels, outHeight, outWidth, outChannels,
    padInfo: {top, bottom, left, right, type},
    strideHeight, strideWidth, filterHeight, filterWidth,
    effectiveFilterHeight, effectiveFilterWidth, dilationHeight, dilationWidth,
    inShape: xShape as [number, number, number, number],
    outShape: channelsLast ? [batchSize, outHeight, outWidth, outChannels] :
                             [batchSize, outChannels, outHeight, outWidth],
    filterShape: filterShape as [number, number, number, number],
    groups: filterInChannels > 0 ? Math.max(1, inChannels / filterInChannels) : 1
  };
}

/**
 * The geometry tfjs's own Conv2D kernel computes, numeric-pad sizing included. Kernels that
 * stand in for `Conv2D` / `FusedConv2D` (see useIm2col) use it so that shapes and results
 * stay exactly tfjs's.
 */
export function tfjsConv2dGeometry(xShape: number[], filterShape: number[],
                                   settings: Conv2dSettings): ConvGeometry {
  const info = tfjsConv2dInfo(xShape, filterShape, settings, false);
  info.groups = 1;
  return info;
}

/**
 * tfjs's computeConv2DInfo (of a depthwise convolution where `depthwise`), groups unset;
 * null dilations are 1, as tfjs's kernels take them.
 */
export function tfjsConv2dInfo(xShape: number[], filterShape: number[], settings: Conv2dSettings,
                               depthwise: boolean): ConvGeometry {
  return backend_util.computeConv2DInfo(
      xShape as [number, number, number, number],
      filterShape as [number, number, number, number], settings.strides,
      settings.dilations ?? 1, settings.pad, settings.dimRoundingMode, depthwise,
      settings.dataFormat === 'NHWC' ? 'channelsLast' : 'channelsFirst') as ConvGeometry;
}

/**
 * A 1D convolution is the 2D one on an image of height 1. Numeric, explicit and causal
 * pads pad the width only (tf.conv1d 4.22 pads the height too and fails).
 */
export function conv1dAs2d(xShape: number[], filterShape: number[], settings: Conv1dSettings): {
  x4dShape: number[], filter4dShape: number[], settings2d: Conv2dSettings
} {
  const {stride, dilation, dataFormat, dimRoundingMode} = settings;
  const channelsLast = dataFormat === 'NWC';
  const [batch, d1, d2] = xShape;
  const x4dShape = channelsLast ? [batch, 1, d1, d2] : [batch, d1, 1, d2];
  const filter4dShape = [1, ...filterShape];
  let widthPad: [number, number] | null = null;
  const pad = settings.pad;
  if (pad === 'causal') {
    widthPad = [dilation * (filterShape[0] - 1), 0];
  } else if (typeof pad === 'number') {
    widthPad = [pad, pad];
  } else if (Array.isArray(pad)) {
    widthPad = channelsLast ? pad[1] : pad[2];
  }
  const pad2d: Conv2dPad = widthPad == null ? pad as 'same' | 'valid' :
      channelsLast ? [[0, 0], [0, 0], widthPad, [0, 0]] : [[0, 0], [0, 0], [0, 0], widthPad];
  return {
    x4dShape,
    filter4dShape,
    settings2d: {
      strides: [1, stride],
      pad: pad2d,
      dataFormat: channelsLast ? 'NHWC' : 'NCHW',
      dilations: [1, dilation],
      dimRoundingMode
    }
  };
}

/** The geometry of a 1D convolution's 2D equivalent (checked arguments). */
export function conv1dGeometry(xShape: number[], filterShape: number[],
                               settings: Conv1dSettings): ConvGeometry {
  const {x4dShape, filter4dShape, settings2d} = conv1dAs2d(xShape, filterShape, settings);
  return conv2dGeometry(x4dShape, filter4dShape, settings2d);
}

/** Columns of the patch matrix: one per filter tap (kh, kw, c). */
export function patchLength(g: ConvGeometry): number {
  return g.filterHeight * g.filterWidth * g.inChannels;
}

/** Geometry of the patch matrix alone (the Im2col kernel), and its [batch, rows, cols] shape. */
export function im2colGeometry(xShape: number[], attrs: {
  filterSize: [number, number], strides: number | [number, number], pad: Conv2dPad,
  dilations: number | [number, number], dataFormat: Conv2dDataFormat
}): {geometry: ConvGeometry, outShape: [number, number, number]} {
  const inChannels = attrs.dataFormat === 'NHWC' ? xShape[3] : xShape[1];
  const geometry = conv2dGeometry(xShape, [...attrs.filterSize, inChannels, 1], attrs);
  return {
    geometry,
    outShape: [geometry.batchSize, geometry.outHeight * geometry.outWidth, patchLength(geometry)]
  };
}


/**
 * Geometry of the rest of the convolution family, each as a convolution the engine already
 * knows: depthwise as grouped (one input channel per group), transposed as the input
 * gradient of the forward convolution it transposes, 3D as tfjs's Conv3DInfo.
 */
import {backend_util} from '@tensorflow/tfjs-core';
import {conv2dGeometry, tfjsConv2dInfo} from './conv2d';
import type {Conv2dSettings, Conv3dGeometry, Conv3dSettings, ConvGeometry} from './types';

/**
 * A depthwise convolution, filter [kh, kw, inChannels, multiplier], as the grouped one with
 * inChannels groups: filter read as [kh, kw, 1, inChannels * multiplier], output channel
 * c * multiplier + m.
 */
export function depthwiseGeometry(xShape: number[], filterShape: number[],
                                  settings: Conv2dSettings): ConvGeometry {
  const [filterHeight, filterWidth, inChannels, multiplier] = filterShape;
  const g = conv2dGeometry(xShape, [filterHeight, filterWidth, 1, inChannels * multiplier],
                           settings);
  g.groups = Math.max(1, inChannels);
  return g;
}

/** tfjs's own depthwise geometry (its numeric-pad sizing included), in the grouped form. */
export function tfjsDepthwiseGeometry(xShape: number[], filterShape: number[],
                                      settings: Conv2dSettings): ConvGeometry {
  const info = tfjsConv2dInfo(xShape, filterShape, settings, true);
  const [filterHeight, filterWidth, inChannels, multiplier] = filterShape;
  info.filterShape = [filterHeight, filterWidth, 1, inChannels * multiplier];
  info.groups = Math.max(1, inChannels);
  return info;
}

/** The spatial sizes of a 3D convolution, as tfjs computes them. */
export function conv3dGeometry(xShape: number[], filterShape: number[],
                               settings: Conv3dSettings): Conv3dGeometry {
  return backend_util.computeConv3DInfo(
      xShape as [number, number, number, number, number],
      filterShape as [number, number, number, number, number], settings.strides,
      settings.dilations, settings.pad, false,
      settings.dataFormat === 'NCDHW' ? 'channelsFirst' : 'channelsLast');
}

/** Columns of a 3D convolution's patch matrix: one per filter tap (kd, kh, kw, c). */
export function patchLength3d(g: Conv3dGeometry): number {
  return g.filterDepth * g.filterHeight * g.filterWidth * g.inChannels;
}

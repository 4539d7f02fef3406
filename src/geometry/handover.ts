import {state} from '../state';
import {conv2dGeometry} from './conv2d';
import {depthwiseGeometry} from './family';
import type {Conv2dSettings, ConvGeometry} from './types';

/**
 * The geometry an op has just checked, handed to the kernel it runs next, so that a small
 * convolution computes it once: computeConv2DInfo takes about 0.3 µs, a tenth of a whole
 * 4x4 convolution. It is keyed by the attrs object the op built for this one call and is
 * taken once, so no other call can pick it up. It is kept in the shared state, since the op
 * and the kernel may come from two copies of the package.
 */
export function handOverGeometry(attrs: object, geometry: ConvGeometry): void {
  state.handedOver = {attrs, geometry};
}

/** The geometry handed over with exactly this attrs object, if any; taking it clears it. */
export function takeHandedOverGeometry(attrs: object): ConvGeometry | undefined {
  const taken = state.handedOver;
  if (taken === undefined || taken.attrs !== attrs) return undefined;
  state.handedOver = undefined;
  return taken.geometry;
}

/**
 * The GeometryOf of this package's own 2D kernels: the geometry their op handed over, else
 * conv2dGeometry. (Stand-ins for tfjs's kernels get tfjs's attrs, never handed over.)
 */
export function checkedConv2dGeometry(xShape: number[], filterShape: number[],
                                      settings: Conv2dSettings): ConvGeometry {
  return takeHandedOverGeometry(settings) ?? conv2dGeometry(xShape, filterShape, settings);
}


/** The same for this package's depthwise kernels. */
export function checkedDepthwiseGeometry(xShape: number[], filterShape: number[],
                                         settings: Conv2dSettings): ConvGeometry {
  return takeHandedOverGeometry(settings) ?? depthwiseGeometry(xShape, filterShape, settings);
}

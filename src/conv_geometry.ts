/**
 * The one place where convolution shapes, padding and argument checks live.
 * Every op and every backend kernel (cpu, webgl) derives its geometry here, so the
 * patch matrix means the same thing everywhere:
 *
 *   patch row  = one output position (outRow, outCol), `outHeight * outWidth` rows per image
 *   patch col  = one filter tap (kh, kw, c), in tfjs's filter order [kh][kw][c]
 *   input read = (outRow * strideHeight - padTop + kh * dilationHeight,
 *                 outCol * strideWidth - padLeft + kw * dilationWidth, c), zero outside.
 */
import {backend_util} from '@tensorflow/tfjs-core';

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

function describe(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

function fail(opName: string, message: string): never {
  throw new Error(`${opName}: ${message}`);
}

function isPositiveInt(v: unknown): boolean {
  return typeof v === 'number' && Number.isInteger(v) && v > 0;
}

function isNonNegativeInt(v: unknown): boolean {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0;
}

function isPair(v: unknown, check: (x: unknown) => boolean): boolean {
  return Array.isArray(v) && v.length === 2 && check(v[0]) && check(v[1]);
}

/** Accepts `n` or `[n, m]` of positive integers; returns the pair. */
function positivePair(opName: string, argName: string, value: unknown, what: string):
    [number, number] {
  if (isPositiveInt(value)) return [value as number, value as number];
  if (isPair(value, isPositiveInt)) return value as [number, number];
  return fail(opName, `argument '${argName}' must be a positive integer or a pair ` +
      `[${what}Height, ${what}Width] of positive integers, but got ${describe(value)}.`);
}

export function checkFloatDtype(opName: string, argName: string, dtype: string): void {
  if (dtype !== 'float32') {
    fail(opName, `argument '${argName}' must have dtype float32, but got ${dtype}.`);
  }
}

export function checkRank(opName: string, argName: string, shape: number[], ranks: number[],
                          layout: string): void {
  if (!ranks.includes(shape.length)) {
    fail(opName, `argument '${argName}' must be rank ${ranks.join(' or ')} (${layout}), ` +
        `but got rank ${shape.length} with shape [${shape}].`);
  }
}

function checkDimRoundingMode(opName: string, pad: unknown, mode: unknown): void {
  if (mode == null) return;
  if (mode !== 'floor' && mode !== 'round' && mode !== 'ceil') {
    fail(opName, `argument 'dimRoundingMode' must be 'floor', 'round' or 'ceil', but got ` +
        `${describe(mode)}.`);
  }
  if (typeof pad === 'string') {
    fail(opName, `argument 'dimRoundingMode' (${mode}) needs a numeric or explicit 'pad', ` +
        `but 'pad' is '${pad}'.`);
  }
}

function checkExplicitPadding(opName: string, pad: unknown[], rank: number, dataFormat: string,
                              spatialAxes: number[]): void {
  const form = dataFormat.split('').map((d, i) => spatialAxes.includes(i) ?
      `[${d.toLowerCase()}Before, ${d.toLowerCase()}After]` : '[0, 0]').join(', ');
  const ok = pad.length === rank &&
      pad.every((p, i) => isPair(p, isNonNegativeInt) &&
          (spatialAxes.includes(i) || ((p as number[])[0] === 0 && (p as number[])[1] === 0)));
  if (!ok) {
    fail(opName, `argument 'pad' as explicit padding for ${dataFormat} must be [${form}] ` +
        `of non-negative integers, but got ${describe(pad)}.`);
  }
}

/**
 * Checks a 2D convolution's arguments (rank-4 input), throwing an Error that names the
 * argument, and returns the convolution's geometry. Runs before any tensor work.
 */
export function checkConv2dArgs(opName: string, xShape: number[], filterShape: number[],
                                settings: Conv2dSettings): ConvGeometry {
  const {pad, dataFormat, dimRoundingMode} = settings;
  if (dataFormat !== 'NHWC' && dataFormat !== 'NCHW') {
    fail(opName, `argument 'dataFormat' must be 'NHWC' or 'NCHW', but got ${describe(dataFormat)}.`);
  }
  checkRank(opName, 'x', xShape, [4], dataFormat === 'NHWC' ?
      '[batch, height, width, inChannels]' : '[batch, inChannels, height, width]');
  checkRank(opName, 'filter', filterShape, [4],
      '[filterHeight, filterWidth, inChannels, outChannels]');
  const inChannels = dataFormat === 'NHWC' ? xShape[3] : xShape[1];
  if (filterShape[2] !== inChannels) {
    fail(opName, `argument 'filter' must have inChannels (dimension 2) equal to the input's ` +
        `channels (${inChannels}), but got filter shape [${filterShape}].`);
  }
  if (filterShape[0] < 1 || filterShape[1] < 1) {
    fail(opName, `argument 'filter' must have a height and width of at least 1, but got ` +
        `filter shape [${filterShape}].`);
  }
  positivePair(opName, 'strides', settings.strides, 'stride');
  positivePair(opName, 'dilations', settings.dilations, 'dilation');
  if (typeof pad === 'number') {
    if (!isNonNegativeInt(pad)) {
      fail(opName, `argument 'pad' as a number must be a non-negative integer, but got ${pad}.`);
    }
  } else if (Array.isArray(pad)) {
    checkExplicitPadding(opName, pad, 4, dataFormat, dataFormat === 'NHWC' ? [1, 2] : [2, 3]);
  } else if (pad !== 'same' && pad !== 'valid') {
    fail(opName, `argument 'pad' must be 'valid', 'same', a non-negative integer or explicit ` +
        `padding, but got ${describe(pad)}.`);
  }
  checkDimRoundingMode(opName, pad, dimRoundingMode);
  const geometry = conv2dGeometry(xShape, filterShape, settings);
  if (geometry.outHeight < 0 || geometry.outWidth < 0) {
    fail(opName, `the dilated filter (${geometry.effectiveFilterHeight}x` +
        `${geometry.effectiveFilterWidth}) does not fit the padded input ` +
        `(${xShape}) with pad ${describe(pad)}: output would be ` +
        `${geometry.outHeight}x${geometry.outWidth}.`);
  }
  return geometry;
}

/**
 * The geometry an op has just checked, handed to the kernel it runs next, so that a small
 * convolution computes it once: computeConv2DInfo takes about 0.3 µs, a tenth of a whole
 * 4x4 convolution. It is keyed by the attrs object the op built for this one call and is
 * taken once, so no other call can pick it up.
 */
let handedOver: {attrs: object, geometry: ConvGeometry} | undefined;

export function handOverGeometry(attrs: object, geometry: ConvGeometry): void {
  handedOver = {attrs, geometry};
}

/** The geometry handed over with exactly this attrs object, if any; taking it clears it. */
export function takeHandedOverGeometry(attrs: object): ConvGeometry | undefined {
  const taken = handedOver;
  if (taken === undefined || taken.attrs !== attrs) return undefined;
  handedOver = undefined;
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
  const [filterHeight, filterWidth, , outChannels] = filterShape;
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
    filterShape: filterShape as [number, number, number, number]
  };
}

/**
 * The geometry tfjs's own Conv2D kernel computes, numeric-pad sizing included. Kernels that
 * stand in for `Conv2D` / `FusedConv2D` (see useIm2col) use it so that shapes and results
 * stay exactly tfjs's.
 */
export function tfjsConv2dGeometry(xShape: number[], filterShape: number[],
                                   settings: Conv2dSettings): ConvGeometry {
  return backend_util.computeConv2DInfo(
      xShape as [number, number, number, number],
      filterShape as [number, number, number, number], settings.strides, settings.dilations,
      settings.pad, settings.dimRoundingMode, false,
      settings.dataFormat === 'NHWC' ? 'channelsLast' : 'channelsFirst');
}

/**
 * Checks a 1D convolution's arguments (rank-3 input: [batch, width, inChannels] for NWC,
 * [batch, inChannels, width] for NCW) and returns the geometry of its 2D equivalent.
 */
export function checkConv1dArgs(opName: string, xShape: number[], filterShape: number[],
                                settings: Conv1dSettings): ConvGeometry {
  const {pad, dataFormat} = settings;
  if (dataFormat !== 'NWC' && dataFormat !== 'NCW') {
    fail(opName, `argument 'dataFormat' must be 'NWC' or 'NCW', but got ${describe(dataFormat)}.`);
  }
  checkRank(opName, 'x', xShape, [3], dataFormat === 'NWC' ?
      '[batch, width, inChannels]' : '[batch, inChannels, width]');
  checkRank(opName, 'filter', filterShape, [3], '[filterWidth, inChannels, outChannels]');
  if (!isPositiveInt(settings.stride)) {
    fail(opName, `argument 'stride' must be a positive integer, but got ${describe(settings.stride)}.`);
  }
  if (!isPositiveInt(settings.dilation)) {
    fail(opName, `argument 'dilation' must be a positive integer, but got ` +
        `${describe(settings.dilation)}.`);
  }
  if (Array.isArray(pad)) {
    checkExplicitPadding(opName, pad, 3, dataFormat, dataFormat === 'NWC' ? [1] : [2]);
  } else if (pad !== 'causal' && pad !== 'same' && pad !== 'valid' &&
             !(typeof pad === 'number' && isNonNegativeInt(pad))) {
    fail(opName, `argument 'pad' must be 'valid', 'same', 'causal', a non-negative integer or ` +
        `explicit padding, but got ${describe(pad)}.`);
  }
  const {x4dShape, filter4dShape, settings2d} = conv1dAs2d(xShape, filterShape, settings);
  return checkConv2dArgs(opName, x4dShape, filter4dShape, settings2d);
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

/**
 * How many patch-matrix rows (output positions) fit a workspace of `budgetBytes` float32
 * values, rounded down to a multiple of `rowMultiple` where that leaves at least one
 * multiple; never less than one row, never more than one image's rows.
 */
export function patchRowsPerTile(g: ConvGeometry, budgetBytes: number, rowMultiple = 1): number {
  const imageRows = g.outHeight * g.outWidth;
  const fit = Math.floor(budgetBytes / (4 * Math.max(1, patchLength(g))));
  const aligned = fit >= rowMultiple ? fit - (fit % rowMultiple) : fit;
  return Math.max(1, Math.min(imageRows, aligned));
}

/**
 * A tile of a convolution's outputs: images [image0, image0 + images) and, in each, output
 * rows [outRow0, outRow0 + outRows).
 */
export interface OutputTile {
  image0: number;
  images: number;
  outRow0: number;
  outRows: number;
}

/**
 * Tiles of whole output rows whose patch matrices fit `budgetBytes`, in output order: groups
 * of whole images while one image fits, else bands of rows of one image (at least one row
 * each, so a single output row wider than the budget still makes a tile).
 */
export function outputTiles(g: ConvGeometry, budgetBytes: number): OutputTile[] {
  const rowBytes = 4 * Math.max(1, patchLength(g));
  const imageBytes = g.outHeight * g.outWidth * rowBytes;
  const tiles: OutputTile[] = [];
  if (imageBytes <= budgetBytes) {
    const images = imageBytes === 0 ? g.batchSize : Math.floor(budgetBytes / imageBytes);
    for (let image0 = 0; image0 < g.batchSize; image0 += images) {
      tiles.push({image0, images: Math.min(images, g.batchSize - image0), outRow0: 0,
                  outRows: g.outHeight});
    }
    return tiles;
  }
  const outRows = Math.max(1, Math.floor(budgetBytes / (g.outWidth * rowBytes)));
  for (let image0 = 0; image0 < g.batchSize; image0++) {
    for (let outRow0 = 0; outRow0 < g.outHeight; outRow0 += outRows) {
      tiles.push({image0, images: 1, outRow0, outRows: Math.min(outRows, g.outHeight - outRow0)});
    }
  }
  return tiles;
}

/**
 * One tile as a convolution of its own: the input rows it reads, [inRow0, inRow0 + inRows),
 * and explicit settings under which the convolution of those rows has exactly the tile's
 * outputs. inRows is 0 where the tile reads only padding (its patches are all zeros; the
 * settings then mean nothing).
 */
export function tileConvolution(g: ConvGeometry, tile: OutputTile, dataFormat: Conv2dDataFormat):
    {inRow0: number, inRows: number, settings: Conv2dSettings} {
  const {strideHeight, strideWidth, padInfo} = g;
  const firstRead = tile.outRow0 * strideHeight - padInfo.top;
  const endRead = (tile.outRow0 + tile.outRows - 1) * strideHeight - padInfo.top +
      g.effectiveFilterHeight;
  const inRow0 = Math.max(0, Math.min(g.inHeight, firstRead));
  const inRows = Math.max(0, Math.min(g.inHeight, endRead) - inRow0);
  const heightPad: [number, number] = [inRow0 - firstRead, endRead - inRow0 - inRows];
  // The padding on the right that gives exactly outWidth columns (a 'ceil' rounding may
  // need more than the original; less than zero is absorbed by the truncation).
  const right = Math.max(0, (g.outWidth - 1) * strideWidth + g.effectiveFilterWidth -
      g.inWidth - padInfo.left);
  const widthPad: [number, number] = [padInfo.left, right];
  return {
    inRow0,
    inRows,
    settings: {
      strides: [strideHeight, strideWidth],
      dilations: [g.dilationHeight, g.dilationWidth],
      dataFormat,
      pad: dataFormat === 'NHWC' ? [[0, 0], heightPad, widthPad, [0, 0]] :
                                   [[0, 0], [0, 0], heightPad, widthPad]
    }
  };
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

/** The activations a fused convolution applies in its epilogue (tfjs's `fused` names). */
export const FUSED_ACTIVATIONS =
    ['linear', 'relu', 'relu6', 'prelu', 'leakyrelu', 'elu', 'sigmoid'] as const;
export type FusedActivation = typeof FUSED_ACTIVATIONS[number];

/** tf.leakyRelu's default slope, used where a fused call gives no `leakyreluAlpha`. */
export const DEFAULT_LEAKYRELU_ALPHA = 0.2;

/**
 * A bias or PReLU-weights shape as the rank-4 shape it broadcasts with against the output
 * (data-format order). As in tfjs's fused kernels, a 1-D operand of length > 1 runs along
 * the channels in NCHW too; otherwise shapes align from the right.
 */
export function alignedOperandShape(operandShape: number[], dataFormat: Conv2dDataFormat):
    number[] {
  const shape = dataFormat === 'NCHW' && operandShape.length === 1 && operandShape[0] !== 1 ?
      [operandShape[0], 1, 1] : operandShape;
  return [...new Array(Math.max(0, 4 - shape.length)).fill(1), ...shape];
}

/** Element strides of a broadcast operand along each output axis (0 where it broadcasts). */
export interface OperandStrides {
  batch: number;
  height: number;
  width: number;
  channel: number;
}

/** Strides of an operand that broadcasts to the output; null when it does not. */
export function operandStrides(operandShape: number[], g: ConvGeometry): OperandStrides | null {
  const dataFormat = g.dataFormat === 'channelsLast' ? 'NHWC' : 'NCHW';
  const aligned = alignedOperandShape(operandShape, dataFormat);
  if (aligned.length !== 4) return null;
  const strides = [0, 0, 0, 0];
  let size = 1;
  for (let d = 3; d >= 0; d--) {
    if (aligned[d] !== 1 && aligned[d] !== g.outShape[d]) return null;
    strides[d] = aligned[d] === 1 ? 0 : size;
    size *= aligned[d];
  }
  const [b, h, w, c] = dataFormat === 'NHWC' ? strides : [strides[0], strides[2], strides[3],
                                                           strides[1]];
  return {batch: b, height: h, width: w, channel: c};
}

/**
 * Checks the fused convolution's extra arguments against the output of the convolution
 * (call after checkConv2dArgs): the activation name, a bias that broadcasts to the output
 * (scalar or [outChannels] for NCHW, as tfjs), and PReLU weights (scalar, [1] or
 * [outChannels], or rank 3 broadcasting to the output) that 'prelu' needs.
 */
export function checkFusedConv2dArgs(opName: string, g: ConvGeometry, fused: {
  activation: unknown, biasShape?: number[], alphaShape?: number[], leakyreluAlpha?: unknown
}): void {
  const {activation, biasShape, alphaShape, leakyreluAlpha} = fused;
  if (!(FUSED_ACTIVATIONS as readonly unknown[]).includes(activation)) {
    fail(opName, `argument 'activation' must be one of ${FUSED_ACTIVATIONS.join(', ')}, but ` +
        `got ${describe(activation)}.`);
  }
  const out = `the output [${g.outShape}]`;
  if (biasShape != null) {
    const nchwOk = biasShape.length === 0 ||
        (biasShape.length === 1 && (biasShape[0] === 1 || biasShape[0] === g.outChannels));
    if (g.dataFormat === 'channelsFirst' ? !nchwOk : operandStrides(biasShape, g) == null) {
      fail(opName, `argument 'bias' must be a scalar or [${g.outChannels}]` +
          (g.dataFormat === 'channelsLast' ? ` or broadcast to ${out}` : '') +
          `, but got shape [${biasShape}].`);
    }
  }
  if (activation === 'prelu') {
    const ok = alphaShape != null && (alphaShape.length === 0 ||
        (alphaShape.length === 1 && (alphaShape[0] === 1 || alphaShape[0] === g.outChannels)) ||
        (alphaShape.length === 3 && operandStrides(alphaShape, g) != null));
    if (!ok) {
      fail(opName, `argument 'preluActivationWeights' must be a scalar, [1], ` +
          `[${g.outChannels}] or rank 3 broadcasting to ${out} for activation 'prelu', ` +
          `but got ${alphaShape == null ? 'none' : `shape [${alphaShape}]`}.`);
    }
  }
  if (leakyreluAlpha != null && typeof leakyreluAlpha !== 'number') {
    fail(opName, `argument 'leakyreluAlpha' must be a number, but got ${describe(leakyreluAlpha)}.`);
  }
}

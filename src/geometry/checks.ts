/**
 * Argument checks of the ops and kernels: each throws an Error that names the argument and
 * shows the value given, before any tensor work or allocation.
 */
import {conv1dAs2d, conv2dGeometry} from './conv2d';
import {conv3dGeometry} from './family';
import type {Conv1dSettings, Conv2dSettings, Conv3dGeometry, Conv3dSettings, ConvGeometry} from './types';

/**
 * A value as an error message shows it: numbers as JavaScript writes them (NaN, Infinity,
 * -0), strings quoted, arrays and plain objects element by element.
 */
export function describe(value: unknown, depth = 0): string {
  switch (typeof value) {
    case 'number': return Object.is(value, -0) ? '-0' : String(value);
    case 'string': return JSON.stringify(value);
    case 'bigint': return `${value}n`;
    case 'function': return 'a function';
    case 'symbol': return value.toString();
    case 'undefined': return 'undefined';
  }
  if (value === null || typeof value !== 'object') return String(value);
  if (depth > 3) return Array.isArray(value) ? '[...]' : '{...}';
  if (Array.isArray(value)) return `[${value.map(v => describe(v, depth + 1)).join(',')}]`;
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) {
    return `a ${(value as object).constructor?.name ?? 'object'}`;
  }
  return `{${Object.entries(value).map(([k, v]) => `${k}: ${describe(v, depth + 1)}`)
      .join(', ')}}`;
}

/**
 * The most values one tensor may hold here: int32 indexing (tfjs's shaders, typed-array
 * limits of some engines). A larger output is refused by name instead of failing inside an
 * allocation.
 */
export const MAX_TENSOR_VALUES = 2 ** 31 - 1;

/** The number of values of a tensor of `shape`. */
export function valueCount(shape: number[]): number {
  let size = 1;
  for (const d of shape) size *= d;
  return size;
}

/**
 * Fails for a tensor of `shape` (`what`: 'the output', 'the patch matrix') larger than one
 * tensor may be, naming the argument that made it so and showing the value given. Callers
 * test `valueCount(shape) > MAX_TENSOR_VALUES` first: describing values on every call costs.
 */
export function failTensorSize(opName: string, argName: string, given: string, what: string,
                               shape: number[]): never {
  return fail(opName, `argument '${argName}' must keep ${what} within one tensor ` +
      `(${MAX_TENSOR_VALUES} values), but got ${given}, which gives ${what} of shape ` +
      `[${shape}] (${valueCount(shape).toExponential(2)} values).`);
}

export function fail(opName: string, message: string): never {
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

function checkConv2dDataFormat(opName: string, dataFormat: unknown): void {
  if (dataFormat !== 'NHWC' && dataFormat !== 'NCHW') {
    fail(opName, `argument 'dataFormat' must be 'NHWC' or 'NCHW', but got ${describe(dataFormat)}.`);
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
 * The filter's input depth must be the input's channels, or divide them (a grouped
 * convolution, groups = inChannels / filter depth, as TensorFlow and Keras infer them) with
 * the output channels divisible by the groups.
 */
function checkGroups(opName: string, inChannels: number, filterDepth: number,
                     outChannels: number, axis: number, filterShape: number[]): void {
  if (filterDepth === inChannels) return;
  const divides = filterDepth > 0 && inChannels % filterDepth === 0;
  if (!divides) {
    fail(opName, `argument 'filter' must have inChannels (dimension ${axis}) equal to the ` +
        `input's channels (${inChannels}) or dividing them (grouped), but got filter shape ` +
        `[${filterShape}].`);
  }
  const groups = inChannels / filterDepth;
  if (outChannels % groups !== 0) {
    fail(opName, `argument 'filter' must have outChannels (dimension ${axis + 1}) divisible by ` +
        `the ${groups} groups its inChannels make of the input's ${inChannels} channels, but ` +
        `got filter shape [${filterShape}].`);
  }
}

/**
 * Checks a 2D convolution's arguments (rank-4 input), throwing an Error that names the
 * argument, and returns the convolution's geometry. Runs before any tensor work.
 */
export function checkConv2dArgs(opName: string, xShape: number[], filterShape: number[],
                                settings: Conv2dSettings, padAsGiven: unknown = settings.pad):
    ConvGeometry {
  const {pad, dataFormat, dimRoundingMode} = settings;
  checkConv2dDataFormat(opName, dataFormat);
  checkRank(opName, 'x', xShape, [4], dataFormat === 'NHWC' ?
      '[batch, height, width, inChannels]' : '[batch, inChannels, height, width]');
  checkRank(opName, 'filter', filterShape, [4],
      '[filterHeight, filterWidth, inChannels, outChannels]');
  const inChannels = dataFormat === 'NHWC' ? xShape[3] : xShape[1];
  checkGroups(opName, inChannels, filterShape[2], filterShape[3], 2, filterShape);
  if (filterShape[0] < 1 || filterShape[1] < 1) {
    fail(opName, `argument 'filter' must have a height and width of at least 1, but got ` +
        `filter shape [${filterShape}].`);
  }
  positivePair(opName, 'strides', settings.strides, 'stride');
  positivePair(opName, 'dilations', settings.dilations, 'dilation');
  if (typeof pad === 'number') {
    if (!isNonNegativeInt(pad)) {
      fail(opName, `argument 'pad' as a number must be a non-negative integer, but got ` +
          `${describe(pad)}.`);
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
        `(${xShape}) with pad ${describe(padAsGiven)}: output would be ` +
        `${geometry.outHeight}x${geometry.outWidth}.`);
  }
  if (valueCount(geometry.outShape) > MAX_TENSOR_VALUES) {
    if (typeof pad === 'string') {
      failTensorSize(opName, 'x', `shape [${xShape}] with filter [${filterShape}]`, 'the output',
                     geometry.outShape);
    }
    failTensorSize(opName, 'pad', describe(padAsGiven), 'the output', geometry.outShape);
  }
  return geometry;
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
  const inChannels = dataFormat === 'NWC' ? xShape[2] : xShape[1];
  checkGroups(opName, inChannels, filterShape[1], filterShape[2], 1, filterShape);
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
  return checkConv2dArgs(opName, x4dShape, filter4dShape, settings2d, pad);
}

/**
 * Checks a depthwise convolution's arguments (rank-4 input; filter [filterHeight,
 * filterWidth, inChannels, channelMultiplier]) and returns its geometry in grouped form.
 */
export function checkDepthwiseConv2dArgs(opName: string, xShape: number[], filterShape: number[],
                                         settings: Conv2dSettings): ConvGeometry {
  const {dataFormat} = settings;
  checkConv2dDataFormat(opName, dataFormat);
  checkRank(opName, 'x', xShape, [4], dataFormat === 'NHWC' ?
      '[batch, height, width, inChannels]' : '[batch, inChannels, height, width]');
  checkRank(opName, 'filter', filterShape, [4],
      '[filterHeight, filterWidth, inChannels, channelMultiplier]');
  const inChannels = dataFormat === 'NHWC' ? xShape[3] : xShape[1];
  if (filterShape[2] !== inChannels) {
    fail(opName, `argument 'filter' must have inChannels (dimension 2) equal to the input's ` +
        `channels (${inChannels}), but got filter shape [${filterShape}].`);
  }
  const [filterHeight, filterWidth, , multiplier] = filterShape;
  const g = checkConv2dArgs(opName, xShape, [filterHeight, filterWidth, 1,
                                             inChannels * multiplier], settings);
  g.groups = Math.max(1, inChannels);
  return g;
}

/**
 * Checks a transposed convolution's arguments: x (the forward convolution's output
 * gradient, rank 4), the filter [filterHeight, filterWidth, outChannels / groups,
 * inChannels] and `outputShape` (the forward convolution's input). Returns the forward
 * geometry, whose output must be x's shape.
 */
export function checkConv2dTransposeArgs(opName: string, xShape: number[], filterShape: number[],
                                         outputShape: unknown, settings: Conv2dSettings):
    ConvGeometry {
  const {dataFormat} = settings;
  checkConv2dDataFormat(opName, dataFormat);
  const layout = dataFormat === 'NHWC' ? '[batch, height, width, channels]' :
                                         '[batch, channels, height, width]';
  checkRank(opName, 'x', xShape, [4], layout);
  if (!Array.isArray(outputShape) || outputShape.length !== 4 ||
      !outputShape.every(isNonNegativeInt)) {
    fail(opName, `argument 'outputShape' must be 4 non-negative integers ${layout} (or 3 ` +
        `without the batch, for a rank-3 x), but got ${describe(outputShape)}.`);
  }
  checkRank(opName, 'filter', filterShape, [4],
      '[filterHeight, filterWidth, outChannels, inChannels]');
  const inChannels = dataFormat === 'NHWC' ? xShape[3] : xShape[1];
  if (filterShape[3] !== inChannels) {
    fail(opName, `argument 'filter' must have inChannels (dimension 3) equal to x's channels ` +
        `(${inChannels}), but got filter shape [${filterShape}].`);
  }
  if (outputShape[0] !== xShape[0]) {
    fail(opName, `argument 'outputShape' must have x's batch size (${xShape[0]}), but got ` +
        `${describe(outputShape)}.`);
  }
  const g = checkConv2dArgs(opName, outputShape as number[], filterShape, settings);
  if (g.outShape.some((size, axis) => size !== xShape[axis])) {
    fail(opName, `argument 'outputShape' must be the shape whose convolution (strides ` +
        `${describe(settings.strides)}, pad ${describe(settings.pad)}) has x's shape ` +
        `[${xShape}], but got ${describe(outputShape)}, which convolves to [${g.outShape}].`);
  }
  return g;
}

/** Accepts `n` or `[d, h, w]` of positive integers. */
function positiveTriple(opName: string, argName: string, value: unknown, what: string): void {
  if (isPositiveInt(value)) return;
  if (Array.isArray(value) && value.length === 3 && value.every(isPositiveInt)) return;
  fail(opName, `argument '${argName}' must be a positive integer or a triple [${what}Depth, ` +
      `${what}Height, ${what}Width] of positive integers, but got ${describe(value)}.`);
}

/** Checks a 3D convolution's arguments (rank-5 input) and returns its geometry. */
export function checkConv3dArgs(opName: string, xShape: number[], filterShape: number[],
                                settings: Conv3dSettings): Conv3dGeometry {
  const {dataFormat, pad} = settings;
  if (dataFormat !== 'NDHWC' && dataFormat !== 'NCDHW') {
    fail(opName, `argument 'dataFormat' must be 'NDHWC' or 'NCDHW', but got ` +
        `${describe(dataFormat)}.`);
  }
  checkRank(opName, 'x', xShape, [5], dataFormat === 'NDHWC' ?
      '[batch, depth, height, width, inChannels]' : '[batch, inChannels, depth, height, width]');
  checkRank(opName, 'filter', filterShape, [5],
      '[filterDepth, filterHeight, filterWidth, inChannels, outChannels]');
  const inChannels = dataFormat === 'NDHWC' ? xShape[4] : xShape[1];
  if (filterShape[3] !== inChannels) {
    fail(opName, `argument 'filter' must have inChannels (dimension 3) equal to the input's ` +
        `channels (${inChannels}), but got filter shape [${filterShape}].`);
  }
  if (filterShape[0] < 1 || filterShape[1] < 1 || filterShape[2] < 1) {
    fail(opName, `argument 'filter' must have a depth, height and width of at least 1, but ` +
        `got filter shape [${filterShape}].`);
  }
  positiveTriple(opName, 'strides', settings.strides, 'stride');
  positiveTriple(opName, 'dilations', settings.dilations, 'dilation');
  if (pad !== 'same' && pad !== 'valid') {
    fail(opName, `argument 'pad' must be 'valid' or 'same', but got ${describe(pad)}.`);
  }
  const g = conv3dGeometry(xShape, filterShape, settings);
  if (g.outDepth <= 0 || g.outHeight <= 0 || g.outWidth <= 0) {
    const inside = g.outDepth < 0 || g.outHeight < 0 || g.outWidth < 0;
    if (inside) {
      fail(opName, `the dilated filter (${g.effectiveFilterDepth}x${g.effectiveFilterHeight}x` +
          `${g.effectiveFilterWidth}) does not fit the input (${xShape}) with pad ` +
          `${describe(pad)}: output would be ${g.outDepth}x${g.outHeight}x${g.outWidth}.`);
    }
  }
  if (valueCount(g.outShape) > MAX_TENSOR_VALUES) {
    failTensorSize(opName, 'x', `shape [${xShape}] with filter [${filterShape}]`, 'the output',
                   g.outShape);
  }
  return g;
}

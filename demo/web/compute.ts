/**
 * Runs the current settings through the package's ops on the active backend and reads back
 * everything the page shows: the article's matrices (explainConv2d / explainConv1d), the
 * output of im2colConv2d / im2colConv1d, which input cells each patch reads, and the check
 * against tf.conv2d.
 */
import * as tf from '@tensorflow/tfjs-core';
import {conv1dAs2d, conv2dGeometry, Conv2dSettings} from '../../src/geometry';
import {explainConv1d, explainConv2d, im2col} from '../../src';
import {filterValues, inputValues, Settings} from './settings';

export interface Check {
  verdict: 'match' | 'mismatch';
  maxAbsDiff: number;
  /**
   * tf.conv2d's error where it refuses the settings (stride together with dilation); the
   * reference is then the stride-1 dilated tf.conv2d, keeping every stride-th output.
   */
  refusal?: string;
  /** The stride of that subsampling, [height, width]. */
  subsampling?: [number, number];
}

export interface DemoResult {
  settings: Settings;
  backend: string;
  /** The input, [height][width][channels]. */
  x: number[][][];
  P: number[][];
  K: number[][];
  KP: number[][];
  /** The op's output as [outHeight][outWidth][filters] (outHeight 1 in 1D). */
  output: number[][][];
  /** The input with its padding: size and where the unpadded input starts. */
  padded: {height: number, width: number, top: number, left: number};
  /** For each patch, the flat indices (row * padded.width + col) of the padded cells it reads. */
  patchCells: number[][];
  check: Check;
}

/** The 2D view of the settings: NHWC input shape, filter shape and conv2d settings. */
function as2d(s: Settings): {xShape: number[], filterShape: number[], settings: Conv2dSettings} {
  if (s.dims === 2) {
    return {
      xShape: [1, s.height, s.width, s.channels],
      filterShape: [s.kernelHeight, s.kernelWidth, s.channels, s.filters],
      settings: {strides: s.stride, pad: s.pad, dataFormat: 'NHWC', dilations: s.dilation},
    };
  }
  const {x4dShape, filter4dShape, settings2d} = conv1dAs2d(
      [1, s.width, s.channels], [s.kernelWidth, s.channels, s.filters],
      {stride: s.stride, pad: s.pad, dataFormat: 'NWC', dilation: s.dilation});
  return {xShape: x4dShape, filterShape: filter4dShape, settings: settings2d};
}

/**
 * Which padded input cells each patch reads, from the package's own im2col run on an image
 * of cell numbers (padding included, so the numbers survive as taps).
 */
function patchCellsOf(s: Settings): {padded: DemoResult['padded'], patchCells: number[][]} {
  const {xShape, filterShape, settings} = as2d(s);
  const {padInfo} = conv2dGeometry(xShape, filterShape, settings);
  const height = xShape[1] + padInfo.top + padInfo.bottom;
  const width = xShape[2] + padInfo.left + padInfo.right;
  const rows = tf.tidy(() => {
    const cellNumbers = tf.reshape(tf.range(0, height * width, 1, 'float32'), [height, width, 1]);
    return im2col(cellNumbers as tf.Tensor3D, [filterShape[0], filterShape[1]], settings.strides,
                  'valid', settings.dilations).arraySync()[0];
  });
  return {padded: {height, width, top: padInfo.top, left: padInfo.left}, patchCells: rows};
}

/**
 * tf.conv2d on the same data; a 1D case runs as the height-1 image (tf.conv1d 4.22 fails on
 * numeric padding). Where tf.conv2d refuses, the stride-1 dilated convolution with the same
 * padding holds every output at multiples of the stride.
 */
function checkAgainstConv2d(s: Settings, x: number[][][], output: number[][][]): Check {
  const {xShape, filterShape, settings} = as2d(s);
  const p = settings.pad;
  // A numeric pad as explicit padding: tf.conv2d 4.22 sizes a numeric pad from the filter height.
  const pad = (typeof p !== 'number' ? p : [[0, 0], [p, p], [p, p], [0, 0]]) as 'valid';
  const actual = output.flat(2);
  const compare = (expected: number[]): Check => {
    const maxAbsDiff = expected.reduce((m, v, i) => Math.max(m, Math.abs(v - actual[i])), 0);
    const scale = expected.reduce((m, v) => Math.max(m, Math.abs(v)), 1);
    const sameSize = expected.length === actual.length;
    return {verdict: sameSize && maxAbsDiff <= 1e-5 * scale ? 'match' : 'mismatch', maxAbsDiff};
  };
  const x4d = () => tf.tensor4d(x.flat(2), xShape as [number, number, number, number]);
  const filter4d = () =>
      tf.tensor4d(filterValues(s).flat(3), filterShape as [number, number, number, number]);
  const values = (run: () => tf.Tensor) => tf.tidy(() => Array.from(run().dataSync()));
  try {
    return compare(values(() => tf.conv2d(x4d(), filter4d(), settings.strides, pad, 'NHWC',
                                          settings.dilations)));
  } catch (error) {
    const {top, bottom, left, right} = conv2dGeometry(xShape, filterShape, settings).padInfo;
    const strides = settings.strides;
    const subsampling: [number, number] = typeof strides === 'number' ? [strides, strides] : strides;
    const kept = values(() => {
      const dense = tf.conv2d(x4d(), filter4d(), 1, [[0, 0], [top, bottom], [left, right], [0, 0]],
                              'NHWC', settings.dilations);
      return tf.stridedSlice(dense, [0, 0, 0, 0], dense.shape, [1, ...subsampling, 1]);
    });
    return {...compare(kept), refusal: (error as Error).message, subsampling};
  }
}

/** Computes everything for the settings on the active backend; throws the ops' argument errors. */
export function compute(s: Settings): DemoResult {
  const x = inputValues(s);
  const filter = filterValues(s);
  const explanation = s.dims === 2 ?
      explainConv2d(x, filter, s.stride, s.pad, s.dilation) :
      explainConv1d(x[0], filter[0], s.stride, s.pad, s.dilation);
  try {
    const {P, K, KP, output} = explanation;
    const out = output.arraySync() as number[][][] | number[][];
    const output3d = s.dims === 2 ? out as number[][][] : [out as number[][]];
    return {
      settings: s, backend: tf.getBackend(), x,
      P: P.arraySync(), K: K.arraySync(), KP: KP.arraySync(), output: output3d,
      ...patchCellsOf(s),
      check: checkAgainstConv2d(s, x, output3d),
    };
  } finally {
    tf.dispose(explanation as unknown as tf.TensorContainer);
  }
}

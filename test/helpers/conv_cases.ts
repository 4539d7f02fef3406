/**
 * Random convolution cases and their independent references, shared by the Node and browser
 * parity suites. The reference is always tfjs's own conv2d; where tfjs refuses a setting it
 * is rewritten into one tfjs accepts, with the padding worked out here (not by the code
 * under test):
 * - stride > 1 with dilation > 1: the stride-1 dilated convolution with the strided case's
 *   explicit padding, keeping every stride-th output (tf.stridedSlice);
 * - conv1d: tf.conv2d on [batch, 1, width, channels] with width-only explicit padding
 *   (tf.conv1d 4.22 pads the height too and fails).
 */
import type * as tfType from '@tensorflow/tfjs-core';
import {Random} from './random';

type Pad2d = 'valid' | 'same' | number | [[number, number], [number, number], [number, number], [number, number]];
type Pad1d = 'valid' | 'same' | 'causal' | number | [[number, number], [number, number], [number, number]];

export interface Conv2dCase {
  kind: 'conv2d';
  xShape: number[];
  filterShape: number[];
  strides: [number, number];
  dilations: [number, number];
  pad: Pad2d;
  dataFormat: 'NHWC' | 'NCHW';
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  /** Values as plain arrays so cases travel to a browser page as JSON. */
  x: number[];
  filter: number[];
}

export interface Conv1dCase {
  kind: 'conv1d';
  xShape: number[];
  filterShape: number[];
  stride: number;
  dilation: number;
  pad: Pad1d;
  dataFormat: 'NWC' | 'NCW';
  x: number[];
  filter: number[];
}

/** [before, after] padding of one spatial axis, following TensorFlow's definitions. */
export function axisPadding(pad: Pad2d, axis: 0 | 1, size: number, effective: number, stride: number,
                     dataFormat: 'NHWC' | 'NCHW'): [number, number] {
  if (pad === 'valid') return [0, 0];
  if (typeof pad === 'number') return [pad, pad];
  if (pad === 'same') {
    const out = Math.ceil(size / stride);
    const total = Math.max(0, (out - 1) * stride + effective - size);
    return [Math.floor(total / 2), total - Math.floor(total / 2)];
  }
  const spatial = dataFormat === 'NHWC' ? [pad[1], pad[2]] : [pad[2], pad[3]];
  return spatial[axis];
}

function rounding(mode: string | undefined): (v: number) => number {
  return mode === 'ceil' ? Math.ceil : mode === 'round' ? Math.round : Math.trunc;
}

/** Output size of one axis, from the formula in the seed document (and tfjs's rounding). */
export function outputSize(size: number, kernel: number, stride: number, dilation: number,
                           padding: [number, number], pad: Pad2d, mode?: string): number {
  const effective = dilation * (kernel - 1) + 1;
  if (pad === 'same') return Math.ceil(size / stride);
  if (pad === 'valid') return Math.ceil((size - effective + 1) / stride);
  return rounding(mode)((size + padding[0] + padding[1] - effective) / stride + 1);
}

export function randomConv2dCase(rng: Random): Conv2dCase {
  for (;;) {
    const dataFormat = rng.pick(['NHWC', 'NCHW'] as const);
    const batch = rng.int(1, 3);
    const [height, width] = [rng.int(1, 20), rng.int(1, 20)];
    const inC = rng.int(1, 9);
    const outC = rng.int(1, 9);
    const kernel: [number, number] = [rng.int(1, 5), rng.int(1, 5)];
    const strides: [number, number] = [rng.int(1, 3), rng.int(1, 3)];
    const dilations: [number, number] = rng.next() < 0.6 ? [1, 1] : [rng.int(1, 3), rng.int(1, 3)];
    const padKind = rng.pick(['valid', 'same', 'number', 'explicit'] as const);
    let pad: Pad2d = padKind === 'valid' || padKind === 'same' ? padKind : rng.int(0, 3);
    if (padKind === 'explicit') {
      const [t, b, l, r] = [rng.int(0, 3), rng.int(0, 3), rng.int(0, 3), rng.int(0, 3)];
      pad = dataFormat === 'NHWC' ? [[0, 0], [t, b], [l, r], [0, 0]] : [[0, 0], [0, 0], [t, b], [l, r]];
    }
    const stridedAndDilated = Math.max(...strides) > 1 && Math.max(...dilations) > 1;
    const dimRoundingMode = typeof pad !== 'string' && !stridedAndDilated && rng.next() < 0.2 ?
        rng.pick(['floor', 'round', 'ceil'] as const) : undefined;
    const sizes = [height, width];
    const outs = [0, 1].map(axis => {
      const effective = dilations[axis] * (kernel[axis] - 1) + 1;
      const padding = axisPadding(pad, axis as 0 | 1, sizes[axis], effective, strides[axis], dataFormat);
      return outputSize(sizes[axis], kernel[axis], strides[axis], dilations[axis], padding, pad,
                        dimRoundingMode);
    });
    if (outs.some(o => o < 1)) continue;
    const xShape = dataFormat === 'NHWC' ? [batch, height, width, inC] : [batch, inC, height, width];
    const filterShape = [...kernel, inC, outC];
    const size = (s: number[]) => s.reduce((a, b) => a * b, 1);
    return {
      kind: 'conv2d', xShape, filterShape, strides, dilations, pad, dataFormat, dimRoundingMode,
      x: Array.from(rng.values(size(xShape))), filter: Array.from(rng.values(size(filterShape)))
    };
  }
}

export function randomConv1dCase(rng: Random): Conv1dCase {
  for (;;) {
    const dataFormat = rng.pick(['NWC', 'NCW'] as const);
    const batch = rng.int(1, 3);
    const width = rng.int(1, 40);
    const inC = rng.int(1, 9);
    const outC = rng.int(1, 9);
    const kernel = rng.int(1, 7);
    const stride = rng.int(1, 3);
    const dilation = rng.next() < 0.6 ? 1 : rng.int(1, 3);
    const padKind = rng.pick(['valid', 'same', 'causal', 'number', 'explicit'] as const);
    let pad: Pad1d = padKind === 'number' ? rng.int(0, 4) : padKind === 'explicit' ? 0 : padKind;
    if (padKind === 'explicit') {
      const [l, r] = [rng.int(0, 4), rng.int(0, 4)];
      pad = dataFormat === 'NWC' ? [[0, 0], [l, r], [0, 0]] : [[0, 0], [0, 0], [l, r]];
    }
    const [l, r] = conv1dWidthPadding({pad, dataFormat, dilation, kernel, width, stride});
    const effective = dilation * (kernel - 1) + 1;
    const out = pad === 'same' ? Math.ceil(width / stride) : pad === 'valid' ?
        Math.ceil((width - effective + 1) / stride) :
        Math.trunc((width + l + r - effective) / stride + 1);
    if (out < 1) continue;
    const xShape = dataFormat === 'NWC' ? [batch, width, inC] : [batch, inC, width];
    const filterShape = [kernel, inC, outC];
    return {
      kind: 'conv1d', xShape, filterShape, stride, dilation, pad, dataFormat,
      x: Array.from(rng.values(xShape.reduce((a, b) => a * b, 1))),
      filter: Array.from(rng.values(kernel * inC * outC))
    };
  }
}

export function conv1dWidthPadding(c: {pad: Pad1d, dataFormat: string, dilation: number, kernel: number,
                                width: number, stride: number}): [number, number] {
  const effective = c.dilation * (c.kernel - 1) + 1;
  if (c.pad === 'causal') return [effective - 1, 0];
  if (Array.isArray(c.pad)) return c.dataFormat === 'NWC' ? c.pad[1] : c.pad[2];
  return axisPadding(c.pad, 1, c.width, effective, c.stride, 'NHWC');
}

/**
 * tf.conv2d's answer for a case, rewritten where tfjs refuses it (see the file comment).
 * Runs on whatever backend `tf` is set to.
 */
export function referenceConv2d(tf: typeof tfType, c: Conv2dCase): tfType.Tensor {
  return tf.tidy(() => {
    const x = tf.tensor4d(c.x, c.xShape as [number, number, number, number]);
    const filter = tf.tensor4d(c.filter, c.filterShape as [number, number, number, number]);
    const stridedAndDilated = Math.max(...c.strides) > 1 && Math.max(...c.dilations) > 1;
    if (!stridedAndDilated) {
      // A numeric pad p means p on every side; tf.conv2d 4.22 sizes its width from the filter
      // height, so it is given the same padding in explicit form.
      const p = c.pad;
      const pad = typeof p !== 'number' ? p : c.dataFormat === 'NHWC' ?
          [[0, 0], [p, p], [p, p], [0, 0]] as Pad2d : [[0, 0], [0, 0], [p, p], [p, p]] as Pad2d;
      return tf.conv2d(x, filter, c.strides, pad, c.dataFormat, c.dilations, c.dimRoundingMode);
    }
    const nhwc = c.dataFormat === 'NHWC';
    const sizes = nhwc ? [c.xShape[1], c.xShape[2]] : [c.xShape[2], c.xShape[3]];
    const pads = [0, 1].map(axis => axisPadding(c.pad, axis as 0 | 1, sizes[axis],
        c.dilations[axis] * (c.filterShape[axis] - 1) + 1, c.strides[axis], c.dataFormat));
    const outs = [0, 1].map(axis => outputSize(sizes[axis], c.filterShape[axis], c.strides[axis],
        c.dilations[axis], pads[axis], c.pad));
    // tf.conv2d has no NCHW explicit padding on every backend: pad in NHWC, transpose around.
    const xNhwc = nhwc ? x : tf.transpose(x, [0, 2, 3, 1]);
    const dense = tf.conv2d(xNhwc, filter, 1, [[0, 0], pads[0], pads[1], [0, 0]], 'NHWC', c.dilations);
    const [batch, , , outC] = dense.shape;
    const sub = tf.stridedSlice(dense, [0, 0, 0, 0], [batch, outs[0] * c.strides[0], outs[1] * c.strides[1], outC],
                                [1, c.strides[0], c.strides[1], 1]);
    return nhwc ? sub : tf.transpose(sub, [0, 3, 1, 2]);
  });
}

/** The conv1d reference: tf.conv2d on an image of height 1 with width-only padding. */
export function referenceConv1d(tf: typeof tfType, c: Conv1dCase): tfType.Tensor {
  return tf.tidy(() => {
    const nwc = c.dataFormat === 'NWC';
    const x3 = tf.tensor3d(c.x, c.xShape as [number, number, number]);
    const xNwc = nwc ? x3 : tf.transpose(x3, [0, 2, 1]);
    const [batch, width, inC] = xNwc.shape;
    const [kernel, , outC] = c.filterShape;
    const padding = conv1dWidthPadding({pad: c.pad, dataFormat: c.dataFormat, dilation: c.dilation,
                                        kernel, width, stride: c.stride});
    const out = referenceConv2d(tf, {
      kind: 'conv2d', xShape: [batch, 1, width, inC], filterShape: [1, kernel, inC, outC],
      strides: [1, c.stride], dilations: [1, c.dilation],
      pad: c.pad === 'same' || c.pad === 'valid' ? c.pad : [[0, 0], [0, 0], padding, [0, 0]],
      dataFormat: 'NHWC', x: Array.from(xNwc.dataSync()), filter: c.filter
    });
    const squeezed = tf.squeeze(out, [1]);
    return nwc ? squeezed : tf.transpose(squeezed, [0, 2, 1]);
  });
}

/** Largest |a - b| relative to the reference's largest magnitude (at least 1). */
export function relativeError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  let scale = 1;
  for (let i = 0; i < expected.length; i++) scale = Math.max(scale, Math.abs(expected[i]));
  let worst = 0;
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i], e = expected[i];
    if (Number.isNaN(e) && Number.isNaN(a)) continue;
    if (a === e) continue;
    const err = Math.abs(a - e) / scale;
    worst = Math.max(worst, Number.isNaN(err) ? Infinity : err);
  }
  return worst;
}

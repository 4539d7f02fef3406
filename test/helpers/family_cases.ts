/**
 * Random cases of the convolution family (grouped, depthwise, fused depthwise, transposed,
 * 3D) and their independent references, built from tfjs's own ops only:
 * - every 2D member is a set of per-group tf.conv2d calls (channel slices, concatenated),
 *   with a dilated filter written out with zeros (so tfjs's stride-or-dilation limit and
 *   its gradients' dilation limit never apply) and the padding worked out here;
 * - the transposed convolution is the gradient (tf.grad) of that reference with respect to
 *   its input, which is what a transposed convolution is;
 * - 3D is tf.conv3d with the filter dilated the same way (NCDHW through transposes).
 */
import type * as tfType from '@tensorflow/tfjs-core';
import {axisPadding, outputSize} from './conv_cases';
import {Random} from './random';

type Tf = typeof tfType;
type Tensor = tfType.Tensor;
type Pad2d = 'valid' | 'same' | number | [[number, number], [number, number], [number, number], [number, number]];
type Activation = 'linear' | 'relu' | 'relu6' | 'elu' | 'sigmoid' | 'leakyrelu' | 'prelu';

export type FamilyOp = 'grouped' | 'depthwise' | 'fusedDepthwise' | 'transpose' | 'conv3d';

/**
 * One case. 2D: x [batch, h, w, c] (or NCHW), filter as the op takes it (grouped [kh, kw,
 * c/groups, outC]; depthwise [kh, kw, c, multiplier]; transposed [kh, kw, outC/groups, c],
 * x then the forward convolution's output and `outputShape` its input). 3D: NDHWC or NCDHW.
 */
export interface FamilyCase {
  op: FamilyOp;
  xShape: number[];
  filterShape: number[];
  strides: number[];
  dilations: number[];
  pad: Pad2d;
  dataFormat: 'NHWC' | 'NCHW' | 'NDHWC' | 'NCDHW';
  groups: number;
  /** transpose: the output's shape (the forward convolution's input). */
  outputShape?: number[];
  activation?: Activation;
  biasShape?: number[];
  x: number[];
  filter: number[];
  bias?: number[];
  alpha?: number[];
}

const size = (s: number[]) => s.reduce((a, b) => a * b, 1);

/** The seeded sequence of cases of `op` (the same on every backend). */
export function familyCases(op: FamilyOp, seed: number, count: number): FamilyCase[] {
  const rng = new Random(seed);
  return Array.from({length: count}, () => randomFamilyCase(op, rng));
}

function randomFamilyCase(op: FamilyOp, rng: Random): FamilyCase {
  for (;;) {
    const three = op === 'conv3d';
    const spatial = three ? 3 : 2;
    const channelsFirst = rng.next() < 0.3;
    const batch = rng.int(1, 3);
    const sizes = Array.from({length: spatial}, () => rng.int(1, three ? 7 : 14));
    const kernel = Array.from({length: spatial}, () => rng.int(1, 4));
    const strides = Array.from({length: spatial}, () => rng.int(1, 3));
    const dilations = rng.next() < 0.6 ? kernel.map(() => 1) : kernel.map(() => rng.int(1, 3));
    let groups = 1, inC: number, outC: number;
    if (op === 'grouped' || op === 'transpose') {
      groups = rng.int(1, 4);
      inC = groups * rng.int(1, 3);
      outC = groups * rng.int(1, 3);
    } else if (op === 'depthwise' || op === 'fusedDepthwise') {
      inC = rng.int(1, 7);
      groups = inC;
      outC = inC * rng.int(1, 3);
    } else {
      inC = rng.int(1, 4);
      outC = rng.int(1, 5);
    }
    const padKind = rng.pick(three ? ['valid', 'same'] as const :
                                     ['valid', 'same', 'number', 'explicit'] as const);
    let pad: Pad2d = padKind === 'valid' || padKind === 'same' ? padKind : rng.int(0, 2);
    const dataFormat = three ? (channelsFirst ? 'NCDHW' : 'NDHWC') : (channelsFirst ? 'NCHW' : 'NHWC');
    if (padKind === 'explicit') {
      const [t, b, l, r] = [rng.int(0, 2), rng.int(0, 2), rng.int(0, 2), rng.int(0, 2)];
      pad = channelsFirst ? [[0, 0], [0, 0], [t, b], [l, r]] : [[0, 0], [t, b], [l, r], [0, 0]];
    }
    const outs = sizes.map((s, axis) => {
      const effective = dilations[axis] * (kernel[axis] - 1) + 1;
      const padding = three ? sameOrValid(pad as 'same' | 'valid', s, effective, strides[axis]) :
          axisPadding(pad, axis as 0 | 1, s, effective, strides[axis], dataFormat as 'NHWC');
      return outputSize(s, kernel[axis], strides[axis], dilations[axis], padding, pad);
    });
    // Now and then an empty output (a batch of none), else every output size at least 1.
    const emptyBatch = rng.next() < 0.04;
    if (outs.some(o => o < 1)) continue;
    const b = emptyBatch ? 0 : batch;
    const inputShape = channelsFirst ? [b, inC, ...sizes] : [b, ...sizes, inC];
    const outputShape = channelsFirst ? [b, outC, ...outs] : [b, ...outs, outC];
    const filterShape = op === 'depthwise' || op === 'fusedDepthwise' ?
        [...kernel, inC, outC / inC] : op === 'transpose' ? [...kernel, inC / groups, outC] :
        [...kernel, inC / groups, outC];
    // A transposed convolution maps the forward output back onto the forward input.
    const xShape = op === 'transpose' ? outputShape : inputShape;
    const c: FamilyCase = {
      op, xShape, filterShape, strides, dilations, pad, dataFormat, groups,
      x: Array.from(rng.values(size(xShape))), filter: Array.from(rng.values(size(filterShape)))
    };
    if (op === 'transpose') c.outputShape = inputShape;
    if (op === 'fusedDepthwise') {
      c.activation = rng.pick(['linear', 'relu', 'relu6', 'elu', 'sigmoid', 'leakyrelu', 'prelu'] as const);
      c.biasShape = rng.next() < 0.3 ? [] : [outC];
      if (rng.next() < 0.2) delete c.biasShape;
      if (c.biasShape != null) c.bias = Array.from(rng.values(size(c.biasShape)));
      if (c.activation === 'prelu') c.alpha = Array.from(rng.values(outC));
    }
    return c;
  }
}

function sameOrValid(pad: 'same' | 'valid', s: number, effective: number, stride: number):
    [number, number] {
  if (pad === 'valid') return [0, 0];
  const total = Math.max(0, (Math.ceil(s / stride) - 1) * stride + effective - s);
  return [Math.floor(total / 2), total - Math.floor(total / 2)];
}

/**
 * The filter with its dilation written out: zeros between the taps (tensor ops only, so
 * tf.grad reaches the filter through it).
 */
export function dilatedFilter(tf: Tf, filter: Tensor, dilations: number[]): Tensor {
  let f = filter;
  dilations.forEach((d, axis) => {
    if (d === 1) return;
    const shape = f.shape;
    const k = shape[axis];
    // [.., k, 1, ..] padded to [.., k, d, ..]: each tap followed by d - 1 zeros.
    const spread = [...shape.slice(0, axis + 1), 1, ...shape.slice(axis + 1)];
    const paddings = spread.map((_, i) => (i === axis + 1 ? [0, d - 1] : [0, 0]) as [number, number]);
    const padded = tf.pad(tf.reshape(f, spread), paddings);
    const merged = [...shape.slice(0, axis), k * d, ...shape.slice(axis + 1)];
    const begin = shape.map(() => 0);
    const sizes = [...shape];
    sizes[axis] = (k - 1) * d + 1;
    f = tf.slice(tf.reshape(padded, merged), begin, sizes);
  });
  return f;
}

/**
 * The grouped 2D convolution of x (NHWC or NCHW) by a filter [kh, kw, inC/groups, outC]:
 * per-group tf.conv2d (dilation written into the filter), channels
 * concatenated. Runs on the backend `tf` is set to.
 */
export function referenceGrouped2d(tf: Tf, x: Tensor, groupedFilter: Tensor,
                                   c: Pick<FamilyCase, 'strides' | 'dilations' | 'pad' | 'dataFormat' | 'groups'>):
    Tensor {
  return tf.tidy(() => {
    const nchw = c.dataFormat === 'NCHW';
    const xNhwc = (nchw ? tf.transpose(x, [0, 2, 3, 1]) : x) as tfType.Tensor4D;
    const [, height, width] = xNhwc.shape;
    const filter = dilatedFilter(tf, groupedFilter, c.dilations) as tfType.Tensor4D;
    const pads = [height, width].map((s, axis) => axisPadding(c.pad, axis as 0 | 1, s,
        filter.shape[axis], c.strides[axis], c.dataFormat as 'NHWC' | 'NCHW'));
    const explicit: Pad2d = c.pad === 'same' || c.pad === 'valid' ? c.pad :
        [[0, 0], pads[0], pads[1], [0, 0]];
    const xs = c.groups === 1 ? [xNhwc] : tf.split(xNhwc, c.groups, 3);
    const fs = c.groups === 1 ? [filter] : tf.split(filter, c.groups, 3);
    const outs = xs.map((xi, i) => tf.conv2d(xi as tfType.Tensor4D, fs[i] as tfType.Tensor4D,
                                             c.strides as [number, number], explicit));
    const out = outs.length === 1 ? outs[0] : tf.concat(outs, 3);
    return nchw ? tf.transpose(out, [0, 3, 1, 2]) : out;
  });
}

/** The 3D convolution by tf.conv3d, dilation written into the filter. */
function referenceConv3d(tf: Tf, x: Tensor, filterTensor: Tensor, c: FamilyCase): Tensor {
  return tf.tidy(() => {
    const ncdhw = c.dataFormat === 'NCDHW';
    const xLast = (ncdhw ? tf.transpose(x, [0, 2, 3, 4, 1]) : x) as tfType.Tensor5D;
    const filter = dilatedFilter(tf, filterTensor, c.dilations) as tfType.Tensor5D;
    const out = tf.conv3d(xLast, filter, c.strides as [number, number, number], c.pad as 'same' | 'valid');
    return ncdhw ? tf.transpose(out, [0, 4, 1, 2, 3]) : out;
  });
}

/**
 * The forward convolution of `x` by `filter` (as the op takes it) a case describes; for
 * transpose, the convolution it transposes.
 */
export function referenceForward(tf: Tf, c: FamilyCase, x: Tensor, filter: Tensor): Tensor {
  if (c.op === 'conv3d') return referenceConv3d(tf, x, filter, c);
  const [kh, kw, a, b] = c.filterShape;
  if (c.op === 'depthwise' || c.op === 'fusedDepthwise') {
    return referenceGrouped2d(tf, x, tf.reshape(filter, [kh, kw, 1, a * b]), c);
  }
  return referenceGrouped2d(tf, x, filter, c);
}

function activate(tf: Tf, y: Tensor, c: FamilyCase): Tensor {
  const outC = c.filterShape[2] * c.filterShape[3];
  const channelsAxis = c.dataFormat === 'NCHW' ? [outC, 1, 1] : [outC];
  switch (c.activation ?? 'linear') {
    case 'linear': return y;
    case 'relu': return tf.relu(y);
    case 'relu6': return tf.relu6(y);
    case 'elu': return tf.elu(y);
    case 'sigmoid': return tf.sigmoid(y);
    case 'leakyrelu': return tf.leakyRelu(y, 0.2);
    case 'prelu': return tf.prelu(y, tf.reshape(tf.tensor(c.alpha!), channelsAxis));
  }
}

/** The case's expected output on the backend `tf` is set to (values and shape). */
export function referenceFamily(tf: Tf, c: FamilyCase): {values: Float32Array, shape: number[]} {
  const result = tf.tidy(() => referenceOp(tf, c, tf.tensor(c.x, c.xShape),
                                           tf.tensor(c.filter, c.filterShape)));
  const values = result.dataSync() as Float32Array;
  const shape = result.shape;
  result.dispose();
  return {values, shape};
}

/** The op a case describes, on tensors x and filter, from tfjs's ops (differentiable). */
export function referenceOp(tf: Tf, c: FamilyCase, x: Tensor, filter: Tensor): Tensor {
  return tf.tidy(() => {
    if (c.op === 'transpose') {
      const input = tf.zeros(c.outputShape!);
      // x is the output gradient: the transposed convolution is the forward one's adjoint.
      return tf.grad((v: Tensor) => tf.sum(tf.mul(referenceForward(tf, c, v, filter), x)))(input);
    }
    let y = referenceForward(tf, c, x, filter);
    if (c.op === 'fusedDepthwise') {
      const outC = c.filterShape[2] * c.filterShape[3];
      if (c.bias != null) {
        const bias = tf.tensor(c.bias, c.biasShape);
        y = tf.add(y, c.dataFormat === 'NCHW' && c.biasShape!.length === 1 ?
            tf.reshape(bias, [outC, 1, 1]) : bias);
      }
      y = activate(tf, y, c);
    }
    return y;
  });
}

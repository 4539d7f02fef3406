/**
 * Bad arguments throw a clear Error naming the argument, before any work and without leaking
 * tensors; valid but unusual input behaves like tf.conv2d; no op leaks.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import {explainConv1d, explainConv2d, im2col, im2colConv1d, im2colConv2d} from '../src';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** Tensors the test itself makes inside a throwing call; they are not the op's to dispose. */
const made: tf.Tensor[] = [];
function T(shape: number[], dtype: tf.DataType = 'float32'): tf.Tensor {
  const t = tf.ones(shape, dtype);
  made.push(t);
  return t;
}
const x4 = () => T([1, 5, 5, 3]) as tf.Tensor4D;
const f4 = () => T([2, 2, 3, 4]) as tf.Tensor4D;
const x3 = () => T([1, 10, 3]) as tf.Tensor3D;
const f3 = () => T([3, 3, 4]) as tf.Tensor3D;

/**
 * Expects `run` to throw `message` and to leave behind no tensor but those the test made,
 * so anything the op created (tensors converted from arrays, reshapes) must be released.
 */
function expectCleanThrow(run: () => unknown, message: RegExp): void {
  made.length = 0;
  const before = tf.memory().numTensors;
  expect(run).toThrow(message);
  expect(tf.memory().numTensors).toBe(before + made.length);
  tf.dispose(made);
}

describe('im2colConv2d argument errors', () => {
  const cases: Array<[string, () => unknown, RegExp]> = [
    ['x of rank 2', () => im2colConv2d([[1, 2], [3, 4]] as never, f4(), 1, 'valid'), /argument 'x' must be rank 3 or 4.*got rank 2/],
    ['x of rank 5', () => im2colConv2d(T([1, 1, 5, 5, 3]) as never, f4(), 1, 'valid'), /argument 'x' must be rank 3 or 4/],
    ['filter of rank 3', () => im2colConv2d(x4(), T([2, 2, 3]) as never, 1, 'valid'), /argument 'filter' must be rank 4 \(\[filterHeight, filterWidth, inChannels, outChannels\]\)/],
    ['channel mismatch', () => im2colConv2d(x4(), T([2, 2, 5, 4]) as tf.Tensor4D, 1, 'valid'), /argument 'filter' must have inChannels.*\(3\)/],
    ['channel mismatch NCHW', () => im2colConv2d(T([1, 3, 5, 5]) as tf.Tensor4D, T([2, 2, 5, 4]) as tf.Tensor4D, 1, 'valid', 'NCHW'), /inChannels.*\(3\)/],
    ['stride 0', () => im2colConv2d(x4(), f4(), 0, 'valid'), /argument 'strides' must be a positive integer/],
    ['stride 1.5', () => im2colConv2d(x4(), f4(), 1.5, 'valid'), /argument 'strides'.*1\.5/],
    ['stride triple', () => im2colConv2d(x4(), f4(), [1, 1, 1] as never, 'valid'), /argument 'strides'/],
    ['negative dilation', () => im2colConv2d(x4(), f4(), 1, 'valid', 'NHWC', [1, -2]), /argument 'dilations' must be a positive integer.*\[1,-2\]/],
    ['dilation NaN', () => im2colConv2d(x4(), f4(), 1, 'valid', 'NHWC', NaN), /argument 'dilations'/],
    ['pad -1', () => im2colConv2d(x4(), f4(), 1, -1), /argument 'pad' as a number must be a non-negative integer, but got -1/],
    ['pad 0.5', () => im2colConv2d(x4(), f4(), 1, 0.5), /argument 'pad'/],
    ['pad string', () => im2colConv2d(x4(), f4(), 1, 'full' as never), /argument 'pad' must be 'valid', 'same'.*"full"/],
    ['explicit pad of 3 pairs', () => im2colConv2d(x4(), f4(), 1, [[0, 0], [1, 1], [1, 1]] as never), /argument 'pad' as explicit padding for NHWC must be \[\[0, 0\], \[hBefore, hAfter\], \[wBefore, wAfter\], \[0, 0\]\]/],
    ['explicit pad on channels', () => im2colConv2d(x4(), f4(), 1, [[0, 0], [1, 1], [1, 1], [1, 0]]), /argument 'pad' as explicit padding/],
    ['explicit pad negative', () => im2colConv2d(x4(), f4(), 1, [[0, 0], [1, -1], [1, 1], [0, 0]]), /argument 'pad' as explicit padding/],
    ['explicit NCHW pad in NHWC order', () => im2colConv2d(T([1, 3, 5, 5]) as tf.Tensor4D, f4(), 1, [[0, 0], [1, 1], [1, 1], [0, 0]], 'NCHW'), /explicit padding for NCHW must be \[\[0, 0\], \[0, 0\], \[hBefore, hAfter\], \[wBefore, wAfter\]\]/],
    ['data format', () => im2colConv2d(x4(), f4(), 1, 'valid', 'NWHC' as never), /argument 'dataFormat' must be 'NHWC' or 'NCHW', but got "NWHC"/],
    ['int32 x', () => im2colConv2d(T([1, 5, 5, 3], 'int32') as tf.Tensor4D, f4(), 1, 'valid'), /argument 'x' must have dtype float32, but got int32/],
    ['bool filter', () => im2colConv2d(x4(), T([2, 2, 3, 4], 'bool') as tf.Tensor4D, 1, 'valid'), /argument 'filter' must have dtype float32, but got bool/],
    ['x null', () => im2colConv2d(null as never, f4(), 1, 'valid'), /argument 'x' must be a Tensor or TensorLike/],
    ['rounding with same', () => im2colConv2d(x4(), f4(), 1, 'same', 'NHWC', 1, 'floor'), /argument 'dimRoundingMode' \(floor\) needs a numeric or explicit 'pad'/],
    ['unknown rounding', () => im2colConv2d(x4(), f4(), 1, 1, 'NHWC', 1, 'up' as never), /argument 'dimRoundingMode' must be 'floor', 'round' or 'ceil'/],
    ['filter does not fit', () => im2colConv2d(T([1, 3, 3, 3]) as tf.Tensor4D, T([5, 5, 3, 1]) as tf.Tensor4D, 1, 'valid'), /dilated filter \(5x5\) does not fit/],
  ];
  for (const [name, run, message] of cases) {
    it(name, () => expectCleanThrow(run, message));
  }

  it('arrays converted to tensors are released when the op throws', () => {
    expectCleanThrow(() => im2colConv2d([[[[1]]]], [[[[1, 2]]]], 0, 'valid'), /argument 'strides'/);
  });
});

describe('im2colConv1d argument errors', () => {
  const cases: Array<[string, () => unknown, RegExp]> = [
    ['x of rank 4', () => im2colConv1d(T([1, 1, 10, 3]) as never, f3(), 1, 'valid'), /argument 'x' must be rank 2 or 3/],
    ['filter of rank 4', () => im2colConv1d(x3(), T([1, 3, 3, 4]) as never, 1, 'valid'), /argument 'filter' must be rank 3 \(\[filterWidth, inChannels, outChannels\]\)/],
    ['channel mismatch', () => im2colConv1d(x3(), T([3, 2, 4]) as tf.Tensor3D, 1, 'valid'), /argument 'filter' must have inChannels/],
    ['stride pair', () => im2colConv1d(x3(), f3(), [1, 1] as never, 'valid'), /argument 'stride' must be a positive integer/],
    ['dilation 0', () => im2colConv1d(x3(), f3(), 1, 'valid', 'NWC', 0), /argument 'dilation' must be a positive integer, but got 0/],
    ['pad -2', () => im2colConv1d(x3(), f3(), 1, -2), /argument 'pad' must be 'valid', 'same', 'causal'/],
    ['explicit pad in 2D form', () => im2colConv1d(x3(), f3(), 1, [[0, 0], [0, 0], [1, 1], [0, 0]] as never), /explicit padding for NWC must be \[\[0, 0\], \[wBefore, wAfter\], \[0, 0\]\]/],
    ['data format', () => im2colConv1d(x3(), f3(), 1, 'valid', 'NHWC' as never), /argument 'dataFormat' must be 'NWC' or 'NCW'/],
    ['int32 x', () => im2colConv1d(T([1, 10, 3], 'int32') as tf.Tensor3D, f3(), 1, 'valid'), /argument 'x' must have dtype float32/],
  ];
  for (const [name, run, message] of cases) {
    it(name, () => expectCleanThrow(run, message));
  }
});

describe('im2col and explain argument errors', () => {
  const cases: Array<[string, () => unknown, RegExp]> = [
    ['im2col filterSize 0', () => im2col(x4(), 0, 1, 'valid'), /argument 'filterSize' must be a positive integer or a pair/],
    ['im2col filterSize triple', () => im2col(x4(), [1, 2, 3] as never, 1, 'valid'), /argument 'filterSize'/],
    ['im2col rank 2', () => im2col(T([5, 5]) as never, 2, 1, 'valid'), /argument 'x' must be rank 3 or 4/],
    ['im2col pad', () => im2col(x4(), 2, 1, 'full' as never), /argument 'pad'/],
    ['explainConv2d batch of 2', () => explainConv2d(T([2, 5, 5, 3]) as tf.Tensor4D, f4(), 1, 'valid'), /argument 'x' must be a single example/],
    ['explainConv2d filter rank', () => explainConv2d(T([5, 5, 3]) as tf.Tensor3D, f3() as never, 1, 'valid'), /argument 'filter' must be rank 4/],
    ['explainConv1d batch of 2', () => explainConv1d(T([2, 10, 3]) as tf.Tensor3D, f3(), 1, 'valid'), /argument 'x' must be a single example/],
    ['explainConv1d stride', () => explainConv1d(T([10, 3]) as tf.Tensor2D, f3(), -1, 'valid'), /argument 'stride'/],
  ];
  for (const [name, run, message] of cases) {
    it(name, () => expectCleanThrow(run, message));
  }
});

describe('no op leaks', () => {
  it('each op leaves exactly its result behind', () => {
    const x = tf.randomNormal([2, 7, 6, 3]) as tf.Tensor4D;
    const x1 = tf.randomNormal([7, 6, 3]) as tf.Tensor3D;
    const f = tf.randomNormal([3, 2, 3, 4]) as tf.Tensor4D;
    const seq = tf.ones([2, 9, 3]) as tf.Tensor3D;
    const seqFilter = tf.ones([3, 3, 2]) as tf.Tensor3D;
    const small = tf.ones([4, 4, 3]) as tf.Tensor3D;
    const line = tf.ones([12, 3]) as tf.Tensor2D;
    const lineFilter = tf.ones([4, 3, 2]) as tf.Tensor3D;
    const runs: Array<() => tf.Tensor | tf.Tensor[]> = [
      () => im2colConv2d(x, f, 2, 'same', 'NHWC', 1),
      () => im2colConv2d(x1, f, 1, 1),
      () => im2colConv2d([[[[1, 2, 3]]]], f, 1, 'same'),
      () => im2colConv1d(seq, seqFilter, 2, 'causal', 'NWC', 2),
      () => im2col(x, [3, 2], 1, 'valid'),
      () => Object.values(explainConv2d(small, f, 1, 'valid')),
      () => Object.values(explainConv1d(line, lineFilter, 2, 2, 2)),
    ];
    for (const run of runs) {
      const before = tf.memory().numTensors;
      const result = run();
      const count = Array.isArray(result) ? result.length : 1;
      expect(tf.memory().numTensors).toBe(before + count);
      tf.dispose(result);
      expect(tf.memory().numTensors).toBe(before);
    }
    tf.dispose([x, x1, f, seq, seqFilter, small, line, lineFilter]);
  });
});

describe('valid but unusual input behaves like tf.conv2d', () => {
  function expectSame(run: (conv: typeof tf.conv2d) => tf.Tensor): void {
    const expected = run(tf.conv2d);
    const actual = run(im2colConv2d as typeof tf.conv2d);
    expect(actual.shape).toEqual(expected.shape);
    expect(Array.from(actual.dataSync())).toEqual(Array.from(expected.dataSync()).map(
        (v, i) => Math.abs(v - actual.dataSync()[i]) < 1e-5 * Math.max(1, Math.abs(v)) ? actual.dataSync()[i] : v));
    tf.dispose([expected, actual]);
  }

  it('batch of zero', () => expectSame(conv => conv(tf.zeros([0, 5, 5, 3]) as tf.Tensor4D, f4(), 1, 'same')));
  it('zero output channels', () => expectSame(conv => conv(x4(), tf.zeros([2, 2, 3, 0]) as tf.Tensor4D, 1, 'same')));
  it('zero input channels', () => expectSame(conv => conv(tf.zeros([1, 4, 4, 0]) as tf.Tensor4D, tf.zeros([2, 2, 0, 3]) as tf.Tensor4D, 1, 'same')));
  it('an output of size zero (valid, filter one larger than the input)', () =>
      expectSame(conv => conv(tf.ones([1, 3, 3, 3]) as tf.Tensor4D, tf.ones([4, 4, 3, 2]) as tf.Tensor4D, 1, 'valid')));
  it('1x1 kernel', () => expectSame(conv => conv(tf.randomNormal([2, 5, 4, 3], 0, 1, 'float32', 1) as tf.Tensor4D, tf.randomNormal([1, 1, 3, 6], 0, 1, 'float32', 2) as tf.Tensor4D, 1, 'valid')));
  it('kernel larger than the input with same', () => expectSame(conv => conv(tf.randomNormal([1, 3, 2, 2], 0, 1, 'float32', 3) as tf.Tensor4D, tf.randomNormal([5, 6, 2, 3], 0, 1, 'float32', 4) as tf.Tensor4D, 1, 'same')));
  it('NaN and Inf in the input', () => expectSame(conv => conv(
      tf.tensor4d([1, NaN, 3, 4, Infinity, 6, 7, -Infinity, 9], [1, 3, 3, 1]), tf.tensor4d([1, 2, 3, 4], [2, 2, 1, 1]), 1, 'same')));
  it('NaN and Inf in the filter, no padding', () => expectSame(conv => conv(
      tf.tensor4d([1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 3, 3, 1]), tf.tensor4d([1, NaN, Infinity, 4], [2, 2, 1, 1]), 1, 'valid')));
});

/**
 * Error and leak bodies: bad arguments throw an Error naming the argument, before any work
 * and without leaking tensors (or GPU bytes); each op leaves exactly its result behind; valid
 * but unusual input gives what tf.conv2d gives on the same backend. The bodies return the
 * messages; the runner matches them (test/shared/suites.ts).
 */
import {Lib, memory, mismatches, onBackend, Tensor, Tf, tidy} from './types';

export interface ThrowResult {
  name: string;
  /** null where nothing was thrown. */
  message: string | null;
  /** Tensors (and GPU bytes) left behind, beyond those the body made for the call. */
  leakedTensors: number;
  leakedBytes: number;
}

/** Every bad call, by name; `T` makes a tensor the body disposes of itself. */
function badCalls(lib: Lib, T: (shape: number[], dtype?: 'float32' | 'int32' | 'bool') => Tensor):
    Array<[string, () => unknown]> {
  const {im2colConv2d, im2colConv1d, im2col, explainConv2d, explainConv1d, fusedIm2colConv2d,
         im2colDepthwiseConv2d, fusedIm2colDepthwiseConv2d, im2colConv2dTranspose, im2colConv3d} = lib;
  const x5 = () => T([1, 4, 5, 5, 3]) as never;
  const f5 = () => T([2, 2, 2, 3, 4]) as never;
  const x4 = () => T([1, 5, 5, 3]) as never;
  const f4 = () => T([2, 2, 3, 4]) as never;
  const x3 = () => T([1, 10, 3]) as never;
  const f3 = () => T([3, 3, 4]) as never;
  const fusedBase = () => ({x: x4(), filter: f4(), strides: 1 as const, pad: 'valid' as const});
  return [
    // im2colConv2d
    ['x of rank 2', () => im2colConv2d([[1, 2], [3, 4]] as never, f4(), 1, 'valid')],
    ['x of rank 5', () => im2colConv2d(T([1, 1, 5, 5, 3]) as never, f4(), 1, 'valid')],
    ['filter of rank 3', () => im2colConv2d(x4(), T([2, 2, 3]) as never, 1, 'valid')],
    ['channel mismatch', () => im2colConv2d(x4(), T([2, 2, 5, 4]) as never, 1, 'valid')],
    ['channel mismatch NCHW', () => im2colConv2d(T([1, 3, 5, 5]) as never, T([2, 2, 5, 4]) as never, 1, 'valid', 'NCHW')],
    ['stride 0', () => im2colConv2d(x4(), f4(), 0, 'valid')],
    ['stride 1.5', () => im2colConv2d(x4(), f4(), 1.5, 'valid')],
    ['stride triple', () => im2colConv2d(x4(), f4(), [1, 1, 1] as never, 'valid')],
    ['negative dilation', () => im2colConv2d(x4(), f4(), 1, 'valid', 'NHWC', [1, -2])],
    ['dilation NaN', () => im2colConv2d(x4(), f4(), 1, 'valid', 'NHWC', NaN)],
    ['stride Infinity', () => im2colConv2d(x4(), f4(), [1, Infinity], 'valid')],
    ['pad NaN', () => im2colConv2d(x4(), f4(), 1, NaN)],
    // Each refused by name before anything is allocated (4e12 and 4e10 output values).
    ['pad too large for a tensor', () => im2colConv2d(x4(), f4(), 1, 1e6)],
    ['explicit pad too large for a tensor', () => im2colConv2d(x4(), f4(), 1, [[0, 0], [5e4, 5e4], [5e4, 5e4], [0, 0]])],
    ['pad -1', () => im2colConv2d(x4(), f4(), 1, -1)],
    ['pad 0.5', () => im2colConv2d(x4(), f4(), 1, 0.5)],
    ['pad string', () => im2colConv2d(x4(), f4(), 1, 'full' as never)],
    ['explicit pad of 3 pairs', () => im2colConv2d(x4(), f4(), 1, [[0, 0], [1, 1], [1, 1]] as never)],
    ['explicit pad on channels', () => im2colConv2d(x4(), f4(), 1, [[0, 0], [1, 1], [1, 1], [1, 0]])],
    ['explicit pad negative', () => im2colConv2d(x4(), f4(), 1, [[0, 0], [1, -1], [1, 1], [0, 0]])],
    ['explicit NCHW pad in NHWC order', () => im2colConv2d(T([1, 3, 5, 5]) as never, f4(), 1, [[0, 0], [1, 1], [1, 1], [0, 0]], 'NCHW')],
    ['data format', () => im2colConv2d(x4(), f4(), 1, 'valid', 'NWHC' as never)],
    ['int32 x', () => im2colConv2d(T([1, 5, 5, 3], 'int32') as never, f4(), 1, 'valid')],
    ['bool filter', () => im2colConv2d(x4(), T([2, 2, 3, 4], 'bool') as never, 1, 'valid')],
    ['x null', () => im2colConv2d(null as never, f4(), 1, 'valid')],
    ['rounding with same', () => im2colConv2d(x4(), f4(), 1, 'same', 'NHWC', 1, 'floor')],
    ['unknown rounding', () => im2colConv2d(x4(), f4(), 1, 1, 'NHWC', 1, 'up' as never)],
    ['filter does not fit', () => im2colConv2d(T([1, 3, 3, 3]) as never, T([5, 5, 3, 1]) as never, 1, 'valid')],
    // Arrays the op converts to tensors are its own to release when it throws.
    ['arrays converted, then stride 0', () => im2colConv2d([[[[1]]]], [[[[1, 2]]]], 0, 'valid')],
    // im2colConv1d
    ['conv1d x of rank 4', () => im2colConv1d(T([1, 1, 10, 3]) as never, f3(), 1, 'valid')],
    ['conv1d filter of rank 4', () => im2colConv1d(x3(), T([1, 3, 3, 4]) as never, 1, 'valid')],
    ['conv1d channel mismatch', () => im2colConv1d(x3(), T([3, 2, 4]) as never, 1, 'valid')],
    ['conv1d pad too large for a tensor', () => im2colConv1d(x3(), f3(), 1, [[0, 0], [2e9, 2e9], [0, 0]])],
    ['conv1d stride pair', () => im2colConv1d(x3(), f3(), [1, 1] as never, 'valid')],
    ['conv1d dilation 0', () => im2colConv1d(x3(), f3(), 1, 'valid', 'NWC', 0)],
    ['conv1d pad -2', () => im2colConv1d(x3(), f3(), 1, -2)],
    ['conv1d pad string', () => im2colConv1d(x3(), f3(), 1, 'full' as never)],
    ['conv1d explicit pad in 2D form', () => im2colConv1d(x3(), f3(), 1, [[0, 0], [0, 0], [1, 1], [0, 0]] as never)],
    ['conv1d data format', () => im2colConv1d(x3(), f3(), 1, 'valid', 'NHWC' as never)],
    ['conv1d int32 x', () => im2colConv1d(T([1, 10, 3], 'int32') as never, f3(), 1, 'valid')],
    // im2col, explain
    ['im2col filterSize 0', () => im2col(x4(), 0, 1, 'valid')],
    ['im2col filterSize triple', () => im2col(x4(), [1, 2, 3] as never, 1, 'valid')],
    ['im2col rank 2', () => im2col(T([5, 5]) as never, 2, 1, 'valid')],
    ['im2col pad', () => im2col(x4(), 2, 1, 'full' as never)],
    // 966x966 patches of 40x40x3 taps (a 5x5 input padded by 500 on each side): 4.5e9 values.
    ['im2col patch matrix too large for a tensor', () => im2col(x4(), 40, 1, 500)],
    ['explainConv2d batch of 2', () => explainConv2d(T([2, 5, 5, 3]) as never, f4(), 1, 'valid')],
    ['explainConv2d filter rank', () => explainConv2d(T([5, 5, 3]) as never, f3(), 1, 'valid')],
    ['explainConv1d batch of 2', () => explainConv1d(T([2, 10, 3]) as never, f3(), 1, 'valid')],
    ['explainConv1d stride', () => explainConv1d(T([10, 3]) as never, f3(), -1, 'valid')],
    // fusedIm2colConv2d
    ['fused unknown activation', () => fusedIm2colConv2d({...fusedBase(), activation: 'tanh' as never})],
    ['fused bias of the wrong length', () => fusedIm2colConv2d({...fusedBase(), bias: T([3])})],
    ['fused rank-2 bias for NCHW', () => fusedIm2colConv2d({...fusedBase(), x: T([1, 3, 5, 5]) as never,
                                                            dataFormat: 'NCHW', bias: T([1, 4])})],
    ['fused prelu without weights', () => fusedIm2colConv2d({...fusedBase(), activation: 'prelu'})],
    ['fused prelu weights of the wrong shape', () => fusedIm2colConv2d({...fusedBase(), activation: 'prelu',
                                                                        preluActivationWeights: T([2, 4])})],
    ['fused non-number leakyreluAlpha', () => fusedIm2colConv2d({...fusedBase(), activation: 'leakyrelu',
                                                                 leakyreluAlpha: '0.1' as never})],
    ['fused int32 bias', () => fusedIm2colConv2d({...fusedBase(), bias: T([4], 'int32')})],
    ['fused filter channels mismatch', () => fusedIm2colConv2d({...fusedBase(), filter: T([2, 2, 2, 4]) as never})],
    // The family: groups, depthwise, transposed, 3D
    ['groups not dividing outChannels', () => im2colConv2d(T([1, 5, 5, 4]) as never, T([2, 2, 2, 3]) as never, 1, 'valid')],
    ['conv1d groups not dividing inChannels', () => im2colConv1d(T([1, 10, 4]) as never, T([3, 3, 4]) as never, 1, 'valid')],
    ['depthwise channel mismatch', () => im2colDepthwiseConv2d(x4(), T([2, 2, 4, 1]) as never, 1, 'valid')],
    ['depthwise filter of rank 3', () => im2colDepthwiseConv2d(x4(), T([2, 2, 3]) as never, 1, 'valid')],
    ['depthwise stride 0', () => im2colDepthwiseConv2d(x4(), T([2, 2, 3, 1]) as never, 0, 'valid')],
    ['depthwise data format', () => im2colDepthwiseConv2d(x4(), T([2, 2, 3, 1]) as never, 1, 'valid', 'HWC' as never)],
    ['fused depthwise bias of the wrong length', () => fusedIm2colDepthwiseConv2d(
        {x: x4(), filter: T([2, 2, 3, 2]) as never, strides: 1, pad: 'valid', bias: T([5])})],
    ['transpose outputShape that does not convolve to x', () => im2colConv2dTranspose(
        T([1, 4, 4, 4]) as never, T([2, 2, 3, 4]) as never, [1, 6, 6, 3], 1, 'valid')],
    ['transpose outputShape of another rank', () => im2colConv2dTranspose(
        T([1, 4, 4, 4]) as never, T([2, 2, 3, 4]) as never, [5, 5, 3] as never, 1, 'valid')],
    ['transpose filter channels mismatch', () => im2colConv2dTranspose(
        T([1, 4, 4, 4]) as never, T([2, 2, 3, 5]) as never, [1, 5, 5, 3], 1, 'valid')],
    ['transpose groups not dividing', () => im2colConv2dTranspose(
        T([1, 4, 4, 4]) as never, T([2, 2, 2, 4]) as never, [1, 5, 5, 3], 1, 'valid')],
    ['conv3d x of rank 3', () => im2colConv3d(T([5, 5, 3]) as never, f5(), 1, 'valid')],
    ['conv3d numeric pad', () => im2colConv3d(x5(), f5(), 1, 1 as never)],
    ['conv3d stride pair', () => im2colConv3d(x5(), f5(), [1, 1] as never, 'valid')],
    ['conv3d data format', () => im2colConv3d(x5(), f5(), 1, 'valid', 'NHWC' as never)],
    ['conv3d channel mismatch', () => im2colConv3d(x5(), T([2, 2, 2, 4, 4]) as never, 1, 'valid')],
    ['conv3d dilation 0', () => im2colConv3d(x5(), f5(), 1, 'valid', 'NDHWC', [1, 0, 1])],
  ];
}

/** Runs every bad call; counts what it leaves behind beyond the tensors made for it. */
export function argumentErrors(tf: Tf, lib: Lib): ThrowResult[] {
  const made: Tensor[] = [];
  const T = (shape: number[], dtype: 'float32' | 'int32' | 'bool' = 'float32') => {
    const t = tf.ones(shape, dtype);
    made.push(t);
    return t;
  };
  return badCalls(lib, T).map(([name, call]) => {
    made.length = 0;
    const before = memory(tf);
    let message: string | null = null;
    try {
      call();
    } catch (error) {
      message = String((error as Error).message);
    }
    const leakedTensors = memory(tf).numTensors - before.numTensors - made.length;
    tf.dispose(made);
    return {name, message, leakedTensors, leakedBytes: memory(tf).gpuBytes - before.gpuBytes};
  });
}

export interface OpMemory {
  name: string;
  /** Tensors the call added (its results: `expected`), and what disposing them left behind. */
  added: number;
  expected: number;
  leakedTensors: number;
  leakedBytes: number;
}

/** Each op, after a warm-up run (uploads, shader compiles), adds only its results. */
export function opMemory(tf: Tf, lib: Lib): OpMemory[] {
  const x = tf.add(tf.randomNormal([2, 7, 6, 3], 0, 1, 'float32', 1), tf.scalar(0)) as never;
  const x1 = tf.randomNormal([7, 6, 3], 0, 1, 'float32', 2) as never;
  const f = tf.randomNormal([3, 2, 3, 4], 0, 1, 'float32', 3) as never;
  const seq = tf.ones([2, 9, 3]) as never;
  const seqFilter = tf.ones([3, 3, 2]) as never;
  const small = tf.ones([4, 4, 3]) as never;
  const line = tf.ones([12, 3]) as never;
  const lineFilter = tf.ones([4, 3, 2]) as never;
  const xNchw = tf.transpose(x, [0, 3, 1, 2]) as never;
  const bias = tf.tensor1d([0.5, -1, 2, 0]);
  const runs: Array<[string, () => Tensor | Tensor[]]> = [
    ['im2colConv2d', () => lib.im2colConv2d(x, f, 2, 'same', 'NHWC', 1)],
    ['im2colConv2d rank 3', () => lib.im2colConv2d(x1, f, 1, 1)],
    ['im2colConv2d of arrays', () => lib.im2colConv2d([[[[1, 2, 3]]]], f, 1, 'same')],
    ['im2colConv2d NCHW', () => lib.im2colConv2d(xNchw, f, 1, 'valid', 'NCHW')],
    ['im2colConv1d', () => lib.im2colConv1d(seq, seqFilter, 2, 'causal', 'NWC', 2)],
    ['fusedIm2colConv2d', () => lib.fusedIm2colConv2d({x, filter: f, strides: 1, pad: 'same', bias,
                                                       activation: 'relu'})],
    ['im2col', () => lib.im2col(x, [3, 2], 1, 'valid')],
    ['explainConv2d', () => Object.values(lib.explainConv2d(small, f, 1, 'valid'))],
    ['explainConv1d', () => Object.values(lib.explainConv1d(line, lineFilter, 2, 2, 2))],
  ];
  const results = runs.map(([name, run]) => {
    tf.dispose(run());
    const before = memory(tf);
    const result = run();
    const added = memory(tf).numTensors - before.numTensors;
    tf.dispose(result);
    const after = memory(tf);
    return {name, added, expected: Array.isArray(result) ? result.length : 1,
            leakedTensors: after.numTensors - before.numTensors,
            leakedBytes: after.gpuBytes - before.gpuBytes};
  });
  tf.dispose([x, x1, f, seq, seqFilter, small, line, lineFilter, xNchw, bias]);
  return results;
}

export interface UnusualResult {
  name: string;
  shape: number[];
  expectedShape: number[];
  /** Elements unlike tf.conv2d's (non-finite ones must be identical). */
  mismatches: number;
}

/**
 * Valid but unusual input: im2colConv2d against tf.conv2d on cpu (tfjs's webgl conv2d fails
 * on zero input channels; no case here multiplies an Inf by a padding zero, so the result is
 * the same on every backend).
 */
export function unusualInput(tf: Tf, lib: Lib, arg: {tolerance: number}): UnusualResult[] {
  type Conv = typeof tf.conv2d;
  const t4 = (values: number[], shape: [number, number, number, number]) => tf.tensor4d(values, shape);
  const normal = (shape: number[], seed: number) => tf.randomNormal(shape, 0, 1, 'float32', seed) as never;
  const cases: Array<[string, (conv: Conv) => Tensor]> = [
    ['batch of zero', conv => conv(tf.zeros([0, 5, 5, 3]) as never, tf.ones([2, 2, 3, 4]) as never, 1, 'same')],
    ['zero output channels', conv => conv(tf.ones([1, 5, 5, 3]) as never, tf.zeros([2, 2, 3, 0]) as never, 1, 'same')],
    ['zero input channels', conv => conv(tf.zeros([1, 4, 4, 0]) as never, tf.zeros([2, 2, 0, 3]) as never, 1, 'same')],
    ['an output of size zero (valid, filter one larger than the input)',
     conv => conv(tf.ones([1, 3, 3, 3]) as never, tf.ones([4, 4, 3, 2]) as never, 1, 'valid')],
    ['1x1 kernel', conv => conv(normal([2, 5, 4, 3], 1), normal([1, 1, 3, 6], 2), 1, 'valid')],
    ['kernel larger than the input with same', conv => conv(normal([1, 3, 2, 2], 3), normal([5, 6, 2, 3], 4), 1, 'same')],
    ['NaN and Inf in the input', conv => conv(t4([1, NaN, 3, 4, Infinity, 6, 7, -Infinity, 9], [1, 3, 3, 1]),
                                              t4([1, 2, 3, 4], [2, 2, 1, 1]), 1, 'same')],
    ['NaN and Inf in the filter, no padding', conv => conv(t4([1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 3, 3, 1]),
                                                          t4([1, NaN, Infinity, 4], [2, 2, 1, 1]), 1, 'valid')],
  ];
  return cases.map(([name, run]) => tidy(tf, () => {
    const expected = onBackend(tf, 'cpu', () => run(tf.conv2d));
    const actual = run(lib.im2colConv2d as Conv);
    return {name, shape: actual.shape, expectedShape: expected.shape,
            mismatches: mismatches(actual.dataSync(), expected.dataSync(), arg.tolerance)};
  }));
}

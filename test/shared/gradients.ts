/**
 * Gradient bodies: gradients of every op of the package on the current backend over seeded
 * sweeps (strides, dilations, stride with dilation, every padding form, NCHW/NCW, rounding
 * modes), against tfjs's own gradients of the equivalent tf.conv2d (helpers/grad_reference:
 * dilation as a zero-expanded filter) and against central differences; tiled under small
 * IM2COL_WORKSPACE_BYTES budgets. Needs tfjs-core's gradients registered (the runners do).
 */
import {Conv2dCase, randomConv1dCase, randomConv2dCase, relativeError} from '../helpers/conv_cases';
import {expandFilter, numericalGradient, referenceConv1dOf, referenceConv2dOf, weightedSum} from '../helpers/grad_reference';
import {Random} from '../helpers/random';
import {label, Lib, memory, onBackend, Tensor, Tf, tidy} from './types';

type T4 = import('@tensorflow/tfjs-core').Tensor4D;
type T3 = import('@tensorflow/tfjs-core').Tensor3D;
type Activation = 'linear' | 'relu' | 'relu6' | 'prelu' | 'leakyrelu' | 'elu' | 'sigmoid';

/** One gradient compared: its name, shapes, relative error. */
export interface GradCheck {
  what: string;
  shape: number[];
  expectedShape: number[];
  error: number;
}

export interface SweepArg {
  seed: number;
  count: number;
  /** Cases with a larger input are drawn again (fewer shader shapes on software WebGL). */
  maxInputSize?: number;
  /** Where tfjs's reference gradients run (default: the current backend; wasm's tfjs ops
   *  refuse NCHW and have no Conv2DBackpropFilter). */
  referenceBackend?: string;
}

/** `fn`, a tfjs-op reference, on the sweep's reference backend. */
function onReferenceBackend<T>(tf: Tf, arg: SweepArg, fn: () => T): T {
  return onBackend(tf, arg.referenceBackend ?? tf.getBackend(), fn);
}

function check(what: string, actual: Tensor, expected: Tensor): GradCheck {
  return {what, shape: actual.shape, expectedShape: expected.shape,
          error: relativeError(actual.dataSync(), expected.dataSync())};
}

function drawConv2d(rng: Random, maxInputSize = Infinity, accept = (_: Conv2dCase) => true): Conv2dCase {
  let c = randomConv2dCase(rng);
  while (c.x.length > maxInputSize || !accept(c)) c = randomConv2dCase(rng);
  return c;
}

function ours2d(lib: Lib, c: Conv2dCase, x: Tensor, f: Tensor): Tensor {
  return lib.im2colConv2d(x as T4, f as T4, c.strides, c.pad, c.dataFormat, c.dilations,
                          c.dimRoundingMode);
}

/** Seeded coordinates of a tensor of `size` elements. */
function someCoords(rng: Random, size: number, count: number): number[] {
  return Array.from({length: Math.min(count, size)}, () => rng.int(0, size - 1));
}

export interface Conv2dGradResult {
  checks: GradCheck[];
  dilated: number;
  stridedDilated: number;
  nchw: number;
  /** The package's kernel calls during the sweep (its own kernels ran, on this backend). */
  calls: Record<string, number>;
}

/** im2colConv2d's dx and dFilter against tf.conv2d's (a zero-expanded filter for dilation). */
export function gradConv2d(tf: Tf, lib: Lib, arg: SweepArg): Conv2dGradResult {
  const rng = new Random(arg.seed);
  const result: Conv2dGradResult = {checks: [], dilated: 0, stridedDilated: 0, nchw: 0, calls: {}};
  lib.resetKernelStats();
  for (let i = 0; i < arg.count; i++) {
    const c = drawConv2d(rng, arg.maxInputSize);
    tf.tidy(() => {
      const x = tf.tensor4d(c.x, c.xShape as [number, number, number, number]);
      const f = tf.tensor4d(c.filter, c.filterShape as [number, number, number, number]);
      const y = ours2d(lib, c, x, f);
      const r = tf.tensor(rng.values(y.size), y.shape);
      const grads = (conv: (x: Tensor, f: Tensor) => Tensor) =>
          tf.grads((x: Tensor, f: Tensor) => tf.sum(tf.mul(conv(x, f), r)))([x, f]);
      const [dx, df] = grads((a, b) => ours2d(lib, c, a, b));
      const [rdx, rdf] = onReferenceBackend(tf, arg, () =>
          grads((a, b) => referenceConv2dOf(tf, c, a as T4, b as T4)));
      result.checks.push(check(`dx case ${i} ${label(c)}`, dx, rdx),
                         check(`dFilter case ${i} ${label(c)}`, df, rdf));
    });
    const dilated = Math.max(...c.dilations) > 1;
    result.dilated += +dilated;
    result.stridedDilated += +(dilated && Math.max(...c.strides) > 1);
    result.nchw += +(c.dataFormat === 'NCHW');
  }
  result.calls = {...lib.kernelStats().calls};
  return result;
}

/** im2colConv2d's gradients at a few coordinates against central differences. */
export function gradConv2dNumerical(tf: Tf, lib: Lib, arg: SweepArg): GradCheck[] {
  const rng = new Random(arg.seed);
  const checks: GradCheck[] = [];
  for (let i = 0; i < arg.count; i++) {
    const c = drawConv2d(rng, 300, c => c.filter.length <= 200);
    tf.tidy(() => {
      const x = tf.tensor4d(c.x, c.xShape as [number, number, number, number]);
      const f = tf.tensor4d(c.filter, c.filterShape as [number, number, number, number]);
      const y = ours2d(lib, c, x, f);
      const r = rng.values(y.size);
      const rT = tf.tensor(r, y.shape);
      const [dx, df] = tf.grads((a: Tensor, b: Tensor) => tf.sum(tf.mul(ours2d(lib, c, a, b), rT)))([x, f]);
      const loss = ([a, b]: Tensor[]) => tf.tidy(() => weightedSum(ours2d(lib, c, a, b), r));
      for (const [which, grad] of [[0, dx], [1, df]] as const) {
        const coords = someCoords(rng, grad.size, 6);
        const numerical = numericalGradient(tf, loss, [x, f], which, coords);
        const values = grad.dataSync();
        const analytic = coords.map(k => values[k]);
        checks.push({what: `input ${which} case ${label(c)}: ${analytic} vs ${numerical}`,
                     shape: [coords.length], expectedShape: [numerical.length],
                     error: relativeError(analytic, numerical)});
      }
    });
  }
  return checks;
}

export interface TiledResult {
  checks: GradCheck[];
  /** Per case run: the budget and the largest patch matrix made. */
  peaks: Array<{budget: number, peak: number}>;
  bands: number;
  imageGroups: number;
}

/** Gradients in bands of output rows or groups of images, under a budget that forces it. */
export function gradTiled(tf: Tf, lib: Lib, arg: SweepArg & {minBudgetPositions?: number}): TiledResult {
  const rng = new Random(arg.seed);
  const result: TiledResult = {checks: [], peaks: [], bands: 0, imageGroups: 0};
  const defaultBudget = tf.env().getNumber(lib.WORKSPACE_BYTES_FLAG);
  try {
    for (let i = 0; i < arg.count; i++) {
      const c = drawConv2d(rng, arg.maxInputSize);
      const [kh, kw, inC] = c.filterShape;
      const outShape = tf.tidy(() => ours2d(lib, c, tf.tensor(c.x, c.xShape), tf.tensor(c.filter, c.filterShape)).shape);
      const [outHeight, outWidth] = c.dataFormat === 'NHWC' ? outShape.slice(1, 3) : outShape.slice(2, 4);
      const rowBytes = 4 * kh * kw * inC;
      // A budget of one to three output rows of one image, or of one image when batched.
      const imageBytes = outHeight * outWidth * rowBytes;
      const drawn = c.xShape[0] > 1 && rng.next() < 0.4 ? imageBytes : rng.int(1, 3) * outWidth * rowBytes;
      const budget = Math.max(drawn, (arg.minBudgetPositions ?? 1) * rowBytes);
      if (budget >= c.xShape[0] * imageBytes) continue;
      if (budget >= imageBytes) result.imageGroups++; else result.bands++;
      tf.tidy(() => {
        const x = tf.tensor4d(c.x, c.xShape as [number, number, number, number]);
        const f = tf.tensor4d(c.filter, c.filterShape as [number, number, number, number]);
        const r = tf.tensor(rng.values(outShape.reduce((a, b) => a * b, 1)), outShape);
        const grads = (conv: (x: Tensor, f: Tensor) => Tensor) =>
            tf.grads((x: Tensor, f: Tensor) => tf.sum(tf.mul(conv(x, f), r)))([x, f]);
        const [rdx, rdf] = onReferenceBackend(tf, arg, () =>
            grads((a, b) => referenceConv2dOf(tf, c, a as T4, b as T4)));
        tf.env().set(lib.WORKSPACE_BYTES_FLAG, budget);
        lib.resetKernelStats();
        const [dx, df] = grads((a, b) => ours2d(lib, c, a, b));
        result.peaks.push({budget, peak: lib.kernelStats().peakWorkspaceBytes});
        tf.env().set(lib.WORKSPACE_BYTES_FLAG, defaultBudget);
        const what = `case ${i} budget ${budget} ${label(c)}`;
        result.checks.push(check(`dx ${what}`, dx, rdx), check(`dFilter ${what}`, df, rdf));
      });
    }
  } finally {
    tf.env().set(lib.WORKSPACE_BYTES_FLAG, defaultBudget);
  }
  return result;
}

/** Tiled gradients leave only the two gradients behind; no patch matrix beyond the budget. */
export function gradTiledMemory(tf: Tf, lib: Lib): {added: number, leakedBytes: number, peak: number,
                                                    budget: number} {
  const x = tf.randomNormal([2, 24, 20, 3], 0, 1, 'float32', 5) as T4;
  const f = tf.randomNormal([3, 3, 3, 4], 0, 1, 'float32', 6) as T4;
  const defaultBudget = tf.env().getNumber(lib.WORKSPACE_BYTES_FLAG);
  // Two output rows of patches: the whole patch matrix (960 rows, 101 KiB) is never made.
  const budget = 4 * 27 * 20 * 2;
  tf.env().set(lib.WORKSPACE_BYTES_FLAG, budget);
  try {
    const grads = () => tf.grads((a: Tensor, b: Tensor) => tf.sum(lib.im2colConv2d(a as T4, b as T4, 1, 'same')))([x, f]);
    tf.dispose(grads());  // warm-up: uploads, shader compiles
    const before = memory(tf);
    lib.resetKernelStats();
    const got = grads();
    const added = memory(tf).numTensors - before.numTensors;
    const peak = lib.kernelStats().peakWorkspaceBytes;
    tf.dispose(got);
    return {added, leakedBytes: memory(tf).gpuBytes - before.gpuBytes, peak, budget};
  } finally {
    tf.env().set(lib.WORKSPACE_BYTES_FLAG, defaultBudget);
    tf.dispose([x, f]);
  }
}

/** im2colConv1d's gradients against those of tf.conv2d on an image of height 1. */
export function gradConv1d(tf: Tf, lib: Lib, arg: SweepArg): GradCheck[] {
  const rng = new Random(arg.seed);
  const checks: GradCheck[] = [];
  for (let i = 0; i < arg.count; i++) {
    let c = randomConv1dCase(rng);
    while (c.x.length > (arg.maxInputSize ?? Infinity)) c = randomConv1dCase(rng);
    tf.tidy(() => {
      const x = tf.tensor3d(c.x, c.xShape as [number, number, number]);
      const f = tf.tensor3d(c.filter, c.filterShape as [number, number, number]);
      const conv = (a: Tensor, b: Tensor) => lib.im2colConv1d(a as T3, b as T3, c.stride, c.pad,
                                                              c.dataFormat, c.dilation);
      const y = conv(x, f);
      const r = tf.tensor(rng.values(y.size), y.shape);
      const grads = (fn: (a: Tensor, b: Tensor) => Tensor) =>
          tf.grads((a: Tensor, b: Tensor) => tf.sum(tf.mul(fn(a, b), r)))([x, f]);
      const [dx, df] = grads(conv);
      const [rdx, rdf] = onReferenceBackend(tf, arg, () =>
          grads((a, b) => referenceConv1dOf(tf, c, a as T3, b as T3)));
      checks.push(check(`dx case ${i} ${label(c)}`, dx, rdx), check(`dFilter case ${i} ${label(c)}`, df, rdf));
    });
  }
  return checks;
}

/** The patch matrix as a convolution with a one-hot filter per tap (kh, kw, c). */
function referenceIm2col(tf: Tf, c: Conv2dCase, x: T4): Tensor {
  const [kh, kw, inC] = c.filterShape;
  const taps = kh * kw * inC;
  const identity = tf.reshape(tf.eye(taps), [kh, kw, inC, taps]) as T4;
  const y = referenceConv2dOf(tf, {...c, filterShape: [kh, kw, inC, taps]}, x, identity);
  const nhwc = c.dataFormat === 'NHWC' ? y : tf.transpose(y, [0, 2, 3, 1]);
  return tf.reshape(nhwc, [nhwc.shape[0], -1, taps]);
}

export interface Col2imResult {
  checks: GradCheck[];
  /** <im2col(x), p> and <x, col2im(p)> per case: equal, col2im being im2col's adjoint. */
  adjoint: Array<{lhs: number, rhs: number}>;
}

/** im2col's gradient (col2im) against the one-hot-filter convolution's. */
export function col2im(tf: Tf, lib: Lib, arg: SweepArg): Col2imResult {
  const rng = new Random(arg.seed);
  const result: Col2imResult = {checks: [], adjoint: []};
  for (let i = 0; i < arg.count; i++) {
    const c = drawConv2d(rng, arg.maxInputSize);
    if (c.dimRoundingMode != null) continue;
    tf.tidy(() => {
      const x = tf.tensor4d(c.x, c.xShape as [number, number, number, number]);
      const [kh, kw] = c.filterShape;
      const patches = (a: Tensor) => lib.im2col(a as T4, [kh, kw], c.strides, c.pad, c.dilations,
                                                c.dataFormat);
      const p = tf.tensor(rng.values(patches(x).size), patches(x).shape);
      const dx = tf.grad((a: Tensor) => tf.sum(tf.mul(patches(a), p)))(x);
      const rdx = onReferenceBackend(tf, arg, () =>
          tf.grad((a: Tensor) => tf.sum(tf.mul(referenceIm2col(tf, c, a as T4), p)))(x));
      result.checks.push(check(`col2im case ${i} ${label(c)}`, dx, rdx));
      result.adjoint.push({lhs: tf.sum(tf.mul(patches(x), p)).dataSync()[0],
                           rhs: tf.sum(tf.mul(x, dx)).dataSync()[0]});
    });
  }
  return result;
}

/** d/dp <col2im(p), r> = im2col(r): a second-order gradient through im2col. */
export function col2imSecondOrder(tf: Tf, lib: Lib): GradCheck {
  const rng = new Random(31);
  const c = {...randomConv2dCase(rng), strides: [2, 1] as [number, number],
             dilations: [1, 2] as [number, number], pad: 'same' as const, dimRoundingMode: undefined};
  return tidy(tf, () => {
    const x = tf.tensor4d(c.x, c.xShape as [number, number, number, number]);
    const [kh, kw] = c.filterShape;
    const patches = (a: Tensor) => lib.im2col(a as T4, [kh, kw], c.strides, c.pad, c.dilations,
                                              c.dataFormat);
    const p0 = tf.tensor(rng.values(patches(x).size), patches(x).shape);
    const r = tf.tensor(rng.values(x.size), x.shape);
    const dp = tf.grad((p: Tensor) => {
      const col2imOfP = tf.grad((a: Tensor) => tf.sum(tf.mul(patches(a), p)))(x);
      return tf.sum(tf.mul(col2imOfP, r));
    })(p0);
    return check('im2col(r)', dp, referenceIm2col(tf, c, r as T4));
  });
}

/** The fused op from tf ops: activation(conv + bias), with tf's own activation gradients. */
function referenceFused(tf: Tf, c: Conv2dCase, activation: Activation, x: Tensor, f: Tensor,
                        bias: Tensor, alpha: Tensor): Tensor {
  const nchw = c.dataFormat === 'NCHW';
  const channels = (t: Tensor) => nchw && t.rank === 1 ? tf.reshape(t, [-1, 1, 1]) : t;
  const z = tf.add(referenceConv2dOf(tf, c, x as T4, f as T4), channels(bias));
  switch (activation) {
    case 'linear': return z;
    case 'relu': return tf.relu(z);
    case 'relu6': return tf.relu6(z);
    case 'elu': return tf.elu(z);
    case 'sigmoid': return tf.sigmoid(z);
    case 'leakyrelu': return tf.leakyRelu(z, 0.3);
    case 'prelu': return tf.prelu(z, channels(alpha));
  }
}

export interface FusedGradResult {
  /** The forward result against the tf-op reference (forward tolerance), per case. */
  forward: GradCheck[];
  checks: GradCheck[];
  calls: Record<string, number>;
}

/** fusedIm2colConv2d's gradients (x, filter, bias, PReLU weights) against the tf ops'. */
export function gradFused(tf: Tf, lib: Lib, arg: SweepArg): FusedGradResult {
  const activations: Activation[] = ['linear', 'relu', 'relu6', 'elu', 'sigmoid', 'leakyrelu', 'prelu'];
  const rng = new Random(arg.seed);
  const result: FusedGradResult = {forward: [], checks: [], calls: {}};
  lib.resetKernelStats();
  for (let i = 0; i < arg.count; i++) {
    const c = drawConv2d(rng, arg.maxInputSize);
    const activation = activations[i % activations.length];
    tf.tidy(() => {
      const x = tf.tensor4d(c.x, c.xShape as [number, number, number, number]);
      const f = tf.tensor4d(c.filter, c.filterShape as [number, number, number, number]);
      const outC = c.filterShape[3];
      const bias = rng.next() < 0.3 ? tf.scalar(rng.values(1)[0]) : tf.tensor1d(rng.values(outC));
      const alpha = tf.tensor1d(rng.values(outC));
      const ours = (a: Tensor, b: Tensor, bb: Tensor, al: Tensor) => lib.fusedIm2colConv2d({
        x: a as T4, filter: b as T4, strides: c.strides, pad: c.pad, dataFormat: c.dataFormat,
        dilations: c.dilations, dimRoundingMode: c.dimRoundingMode, bias: bb, activation,
        preluActivationWeights: al, leakyreluAlpha: 0.3});
      const y = ours(x, f, bias, alpha);
      const r = tf.tensor(rng.values(y.size), y.shape);
      result.forward.push(check(`forward ${activation} ${label(c)}`, y, onReferenceBackend(tf, arg,
          () => referenceFused(tf, c, activation, x, f, bias, alpha))));
      const grads = (fn: (...t: Tensor[]) => Tensor) =>
          tf.grads((...t: Tensor[]) => tf.sum(tf.mul(fn(...t), r)))(
              activation === 'prelu' ? [x, f, bias, alpha] : [x, f, bias]);
      const got = grads((a, b, bb, al) => ours(a, b, bb, al ?? alpha));
      const want = onReferenceBackend(tf, arg, () =>
          grads((a, b, bb, al) => referenceFused(tf, c, activation, a, b, bb, al ?? alpha)));
      got.forEach((g, k) => result.checks.push(check(`input ${k} ${activation} ${label(c)}`, g, want[k])));
    });
  }
  result.calls = {...lib.kernelStats().calls};
  return result;
}

/** fusedIm2colConv2d's gradients (NCHW, stride with dilation, elu) against central differences. */
export function gradFusedNumerical(tf: Tf, lib: Lib): GradCheck[] {
  const rng = new Random(8080);
  const c: Conv2dCase = {...randomConv2dCase(rng), xShape: [2, 3, 6, 5], filterShape: [2, 3, 3, 4],
                         strides: [2, 1], dilations: [1, 2], pad: 'same', dataFormat: 'NCHW',
                         dimRoundingMode: undefined};
  c.x = Array.from(rng.values(180));
  c.filter = Array.from(rng.values(72));
  return tidy(tf, () => {
    const inputs = [tf.tensor(c.x, c.xShape), tf.tensor(c.filter, c.filterShape),
                    tf.tensor1d(rng.values(4))];
    const op = ([x, f, b]: Tensor[]) => lib.fusedIm2colConv2d({
      x: x as T4, filter: f as T4, strides: c.strides, pad: c.pad, dataFormat: 'NCHW',
      dilations: c.dilations, bias: b, activation: 'elu'});
    const y = op(inputs);
    const r = rng.values(y.size);
    const rT = tf.tensor(r, y.shape);
    const grads = tf.grads((...t: Tensor[]) => tf.sum(tf.mul(op(t), rT)))(inputs);
    return inputs.map((_, which) => {
      const coords = someCoords(rng, inputs[which].size, 5);
      const numerical = numericalGradient(tf, t => tf.tidy(() => weightedSum(op(t), r)),
                                          inputs, which, coords, 1e-3);
      const values = grads[which].dataSync();
      const analytic = coords.map(k => values[k]);
      return {what: `input ${which}: ${analytic} vs ${numerical}`, shape: [coords.length],
              expectedShape: [numerical.length], error: relativeError(analytic, numerical)};
    });
  });
}

/** The zero-expanded filter reference is tf.conv2d with dilation where tfjs has it. */
export function expandedFilterReference(tf: Tf): GradCheck {
  const rng = new Random(3);
  return tidy(tf, () => {
    const x = tf.tensor4d(rng.values(2 * 9 * 8 * 3), [2, 9, 8, 3]);
    const f = tf.tensor4d(rng.values(3 * 2 * 3 * 2), [3, 2, 3, 2]);
    return check('expanded filter', tf.conv2d(x, f, 1, 'same', 'NHWC', [2, 3]),
                 tf.conv2d(x, expandFilter(tf, f, [2, 3]), 1, 'same'));
  });
}

/**
 * Gradients of every op of the package on the cpu backend, over a seeded sweep (strides,
 * dilations, stride with dilation, every padding form, NCHW/NCW, rounding modes), against
 * tfjs's own gradients of the equivalent tf.conv2d (helpers/grad_reference: dilation as a
 * zero-expanded filter) and against central differences.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import './helpers/tfjs_gradients';
import {fusedIm2colConv2d, FusedActivation, im2col, im2colConv1d, im2colConv2d, kernelStats, resetKernelStats, WORKSPACE_BYTES_FLAG} from '../src';
import {Conv2dCase, randomConv1dCase, randomConv2dCase, relativeError} from './helpers/conv_cases';
import {expandFilter, numericalGradient, referenceConv1dOf, referenceConv2dOf, weightedSum} from './helpers/grad_reference';
import {Random} from './helpers/random';

const TOLERANCE = 1e-4;
const NUMERICAL_TOLERANCE = 5e-3;

beforeAll(async () => {
  await tf.setBackend('cpu');
});

function expectClose(actual: tf.Tensor, expected: tf.Tensor, what: string, tolerance = TOLERANCE) {
  expect({what, shape: actual.shape}).toEqual({what, shape: expected.shape});
  const error = relativeError(actual.dataSync(), expected.dataSync());
  if (!(error <= tolerance)) throw new Error(`${what}: relative error ${error}`);
  return error;
}

function describeCase(c: object): string {
  return JSON.stringify(c, (key, value) => key === 'x' || key === 'filter' ? undefined : value);
}

/** Seeded coordinates of a tensor of `size` elements. */
function someCoords(rng: Random, size: number, count: number): number[] {
  return Array.from({length: Math.min(count, size)}, () => rng.int(0, size - 1));
}

function ours2d(c: Conv2dCase, x: tf.Tensor, f: tf.Tensor): tf.Tensor {
  return im2colConv2d(x as tf.Tensor4D, f as tf.Tensor4D, c.strides, c.pad, c.dataFormat,
                      c.dilations, c.dimRoundingMode);
}

describe('im2colConv2d gradients (cpu)', () => {
  it('match tf.conv2d gradients over a seeded sweep, dilation and stride+dilation included',
     () => {
       const rng = new Random(4242);
       let worst = 0, dilated = 0, stridedDilated = 0, nchw = 0;
       for (let i = 0; i < 80; i++) {
         const c = randomConv2dCase(rng);
         tf.tidy(() => {
           const x = tf.tensor4d(c.x, c.xShape as [number, number, number, number]);
           const f = tf.tensor4d(c.filter, c.filterShape as [number, number, number, number]);
           const y = ours2d(c, x, f);
           const r = tf.tensor(rng.values(y.size), y.shape);
           const loss = (conv: (x: tf.Tensor, f: tf.Tensor) => tf.Tensor) =>
               tf.grads((x: tf.Tensor, f: tf.Tensor) => tf.sum(tf.mul(conv(x, f), r)))([x, f]);
           const [dx, df] = loss((a, b) => ours2d(c, a, b));
           const [rdx, rdf] = loss((a, b) => referenceConv2dOf(tf, c, a as tf.Tensor4D, b as tf.Tensor4D));
           const what = `case ${i} ${describeCase(c)}`;
           worst = Math.max(worst, expectClose(dx, rdx, `dx ${what}`), expectClose(df, rdf, `dFilter ${what}`));
         });
         const isDilated = Math.max(...c.dilations) > 1;
         dilated += +isDilated;
         stridedDilated += +(isDilated && Math.max(...c.strides) > 1);
         nchw += +(c.dataFormat === 'NCHW');
       }
       console.log(`conv2d gradients: worst relative error ${worst.toExponential(2)}`);
       expect(dilated).toBeGreaterThan(10);
       expect(stridedDilated).toBeGreaterThan(3);
       expect(nchw).toBeGreaterThan(10);
     });

  it('match central differences', () => {
    const rng = new Random(77);
    for (let i = 0; i < 8; i++) {
      let c = randomConv2dCase(rng);
      while (c.x.length > 300 || c.filter.length > 200) c = randomConv2dCase(rng);
      tf.tidy(() => {
        const x = tf.tensor4d(c.x, c.xShape as [number, number, number, number]);
        const f = tf.tensor4d(c.filter, c.filterShape as [number, number, number, number]);
        const r = rng.values(ours2d(c, x, f).size);
        const rT = tf.tensor(r, ours2d(c, x, f).shape);
        const [dx, df] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(ours2d(c, a, b), rT)))([x, f]);
        const loss = ([a, b]: tf.Tensor[]) => tf.tidy(() => weightedSum(ours2d(c, a, b), r));
        for (const [which, grad] of [[0, dx], [1, df]] as const) {
          const coords = someCoords(rng, grad.size, 6);
          const numerical = numericalGradient(tf, loss, [x, f], which, coords);
          const analytic = coords.map(k => grad.dataSync()[k]);
          const err = relativeError(analytic, numerical);
          if (err > NUMERICAL_TOLERANCE) {
            throw new Error(`case ${describeCase(c)} input ${which}: ${analytic} vs ${numerical}`);
          }
        }
      });
    }
  });
});

describe('tiled gradients (small IM2COL_WORKSPACE_BYTES)', () => {
  let defaultBudget: number;
  beforeAll(() => {
    defaultBudget = tf.env().getNumber(WORKSPACE_BYTES_FLAG);
  });
  afterEach(() => tf.env().set(WORKSPACE_BYTES_FLAG, defaultBudget));

  it('match tf.conv2d gradients in bands of rows and groups of images, within the budget', () => {
    const rng = new Random(9090);
    let bands = 0, imageGroups = 0, worst = 0;
    for (let i = 0; i < 60; i++) {
      const c = randomConv2dCase(rng);
      const [kh, kw, inC] = c.filterShape;
      const nhwc = c.dataFormat === 'NHWC';
      const outShape = tf.tidy(() => ours2d(c, tf.tensor4d(c.x, c.xShape as [number, number, number, number]),
          tf.tensor4d(c.filter, c.filterShape as [number, number, number, number])).shape);
      const [outHeight, outWidth] = nhwc ? outShape.slice(1, 3) : outShape.slice(2, 4);
      const rowBytes = 4 * kh * kw * inC;
      // A budget of one to three output rows of one image, or of one image when batched.
      const imageBytes = outHeight * outWidth * rowBytes;
      const budget = c.xShape[0] > 1 && rng.next() < 0.4 ? imageBytes :
          rng.int(1, 3) * outWidth * rowBytes;
      if (budget >= c.xShape[0] * imageBytes) continue;
      if (budget >= imageBytes) imageGroups++; else bands++;
      tf.env().set(WORKSPACE_BYTES_FLAG, budget);
      resetKernelStats();
      tf.tidy(() => {
        const x = tf.tensor4d(c.x, c.xShape as [number, number, number, number]);
        const f = tf.tensor4d(c.filter, c.filterShape as [number, number, number, number]);
        const r = tf.tensor(rng.values(outShape.reduce((a, b) => a * b, 1)), outShape);
        const grads = (conv: (x: tf.Tensor, f: tf.Tensor) => tf.Tensor) =>
            tf.grads((x: tf.Tensor, f: tf.Tensor) => tf.sum(tf.mul(conv(x, f), r)))([x, f]);
        const [dx, df] = grads((a, b) => ours2d(c, a, b));
        const [rdx, rdf] = grads((a, b) => referenceConv2dOf(tf, c, a as tf.Tensor4D, b as tf.Tensor4D));
        const what = `case ${i} budget ${budget} ${describeCase(c)}`;
        worst = Math.max(worst, expectClose(dx, rdx, `dx ${what}`), expectClose(df, rdf, `dFilter ${what}`));
      });
      expect(kernelStats().peakWorkspaceBytes).toBeLessThanOrEqual(budget);
    }
    console.log(`tiled conv2d gradients: ${bands} in bands of rows, ${imageGroups} in image ` +
                `groups, worst relative error ${worst.toExponential(2)}`);
    expect(bands).toBeGreaterThan(15);
    expect(imageGroups).toBeGreaterThan(3);
  });

  it('leak nothing, and no patch matrix made is larger than the budget', () => {
    const x = tf.randomNormal([2, 24, 20, 3], 0, 1, 'float32', 5) as tf.Tensor4D;
    const f = tf.randomNormal([3, 3, 3, 4], 0, 1, 'float32', 6) as tf.Tensor4D;
    const before = tf.memory();
    tf.env().set(WORKSPACE_BYTES_FLAG, 4 * 27 * 20 * 2);  // two output rows of patches
    resetKernelStats();
    const [dx, df] = tf.grads((a: tf.Tensor, b: tf.Tensor) =>
        tf.sum(im2colConv2d(a as tf.Tensor4D, b as tf.Tensor4D, 1, 'same')))([x, f]);
    const after = tf.memory();
    expect(after.numTensors).toBe(before.numTensors + 2);
    // The whole patch matrix (960 rows, 101 KiB) is never made; tiles of 40 rows are.
    expect(kernelStats().peakWorkspaceBytes).toBeLessThanOrEqual(4 * 27 * 20 * 2);
    tf.dispose([x, f, dx, df]);
  });
});

describe('im2colConv1d gradients (cpu)', () => {
  it('match tf.conv2d gradients over a seeded sweep (NWC/NCW, causal, dilation)', () => {
    const rng = new Random(1001);
    for (let i = 0; i < 40; i++) {
      const c = randomConv1dCase(rng);
      tf.tidy(() => {
        const x = tf.tensor3d(c.x, c.xShape as [number, number, number]);
        const f = tf.tensor3d(c.filter, c.filterShape as [number, number, number]);
        const conv = (a: tf.Tensor, b: tf.Tensor) => im2colConv1d(a as tf.Tensor3D, b as tf.Tensor3D,
            c.stride, c.pad, c.dataFormat, c.dilation);
        const y = conv(x, f);
        const r = tf.tensor(rng.values(y.size), y.shape);
        const grads = (fn: (a: tf.Tensor, b: tf.Tensor) => tf.Tensor) =>
            tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(fn(a, b), r)))([x, f]);
        const [dx, df] = grads(conv);
        const [rdx, rdf] = grads((a, b) => referenceConv1dOf(tf, c, a as tf.Tensor3D, b as tf.Tensor3D));
        expectClose(dx, rdx, `dx case ${i} ${describeCase(c)}`);
        expectClose(df, rdf, `dFilter case ${i} ${describeCase(c)}`);
      });
    }
  });
});

describe('im2col gradient (col2im) (cpu)', () => {
  /** The patch matrix as a convolution with a one-hot filter per tap (kh, kw, c). */
  function referenceIm2col(c: Conv2dCase, x: tf.Tensor4D): tf.Tensor {
    const [kh, kw, inC] = c.filterShape;
    const taps = kh * kw * inC;
    const identity = tf.reshape(tf.eye(taps), [kh, kw, inC, taps]) as tf.Tensor4D;
    const y = referenceConv2dOf(tf, {...c, filterShape: [kh, kw, inC, taps]}, x, identity);
    const nhwc = c.dataFormat === 'NHWC' ? y : tf.transpose(y, [0, 2, 3, 1]);
    return tf.reshape(nhwc, [nhwc.shape[0], -1, taps]);
  }

  it('matches the gradient of the one-hot-filter convolution, and col2im is im2col\'s adjoint',
     () => {
       const rng = new Random(9);
       for (let i = 0; i < 30; i++) {
         const c = randomConv2dCase(rng);
         if (c.dimRoundingMode != null) continue;
         tf.tidy(() => {
           const x = tf.tensor4d(c.x, c.xShape as [number, number, number, number]);
           const [kh, kw] = c.filterShape;
           const patches = (a: tf.Tensor) => im2col(a as tf.Tensor4D, [kh, kw], c.strides, c.pad,
                                                     c.dilations, c.dataFormat);
           const p = tf.tensor(rng.values(patches(x).size), patches(x).shape);
           const dx = tf.grad((a: tf.Tensor) => tf.sum(tf.mul(patches(a), p)))(x);
           const rdx = tf.grad((a: tf.Tensor) => tf.sum(tf.mul(referenceIm2col(c, a as tf.Tensor4D), p)))(x);
           expectClose(dx, rdx, `col2im case ${i} ${describeCase(c)}`);
           // <im2col(x), p> = <x, col2im(p)>
           const lhs = tf.sum(tf.mul(patches(x), p)).dataSync()[0];
           const rhs = tf.sum(tf.mul(x, dx)).dataSync()[0];
           expect(Math.abs(lhs - rhs)).toBeLessThan(1e-3 * Math.max(1, Math.abs(lhs)));
         });
       }
     });

  it('col2im differentiates to im2col (second-order gradient through im2col)', () => {
    const rng = new Random(31);
    const c = {...randomConv2dCase(rng), strides: [2, 1] as [number, number],
               dilations: [1, 2] as [number, number], pad: 'same' as const, dimRoundingMode: undefined};
    tf.tidy(() => {
      const x = tf.tensor4d(c.x, c.xShape as [number, number, number, number]);
      const [kh, kw] = c.filterShape;
      const patches = (a: tf.Tensor) => im2col(a as tf.Tensor4D, [kh, kw], c.strides, c.pad,
                                                c.dilations, c.dataFormat);
      const p0 = tf.tensor(rng.values(patches(x).size), patches(x).shape);
      const r = tf.tensor(rng.values(x.size), x.shape);
      // d/dp <col2im(p), r> = im2col(r)
      const dp = tf.grad((p: tf.Tensor) => {
        const col2imOfP = tf.grad((a: tf.Tensor) => tf.sum(tf.mul(patches(a), p)))(x);
        return tf.sum(tf.mul(col2imOfP, r));
      })(p0);
      expectClose(dp, referenceIm2col(c, r as tf.Tensor4D), 'im2col(r)');
    });
  });
});

describe('fusedIm2colConv2d gradients (cpu)', () => {
  const ACTIVATIONS: FusedActivation[] = ['linear', 'relu', 'relu6', 'elu', 'sigmoid', 'leakyrelu', 'prelu'];

  /** The fused op from tf ops: activation(conv + bias), with tf's own activation gradients. */
  function referenceFused(c: Conv2dCase, activation: FusedActivation, x: tf.Tensor, f: tf.Tensor,
                          bias: tf.Tensor, alpha: tf.Tensor): tf.Tensor {
    const nchw = c.dataFormat === 'NCHW';
    const channels = (t: tf.Tensor) => nchw && t.rank === 1 ? tf.reshape(t, [-1, 1, 1]) : t;
    const z = tf.add(referenceConv2dOf(tf, c, x as tf.Tensor4D, f as tf.Tensor4D), channels(bias));
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

  it('match tf op gradients for every activation, bias and PReLU weights included', () => {
    const rng = new Random(555);
    for (let i = 0; i < 42; i++) {
      const c = randomConv2dCase(rng);
      const activation = ACTIVATIONS[i % ACTIVATIONS.length];
      tf.tidy(() => {
        const x = tf.tensor4d(c.x, c.xShape as [number, number, number, number]);
        const f = tf.tensor4d(c.filter, c.filterShape as [number, number, number, number]);
        const outC = c.filterShape[3];
        const bias = rng.next() < 0.3 ? tf.scalar(rng.values(1)[0]) : tf.tensor1d(rng.values(outC));
        const alpha = tf.tensor1d(rng.values(outC));
        const ours = (a: tf.Tensor, b: tf.Tensor, bb: tf.Tensor, al: tf.Tensor) => fusedIm2colConv2d({
          x: a as tf.Tensor4D, filter: b as tf.Tensor4D, strides: c.strides, pad: c.pad,
          dataFormat: c.dataFormat, dilations: c.dilations, dimRoundingMode: c.dimRoundingMode,
          bias: bb, activation, preluActivationWeights: al, leakyreluAlpha: 0.3});
        const y = ours(x, f, bias, alpha);
        const r = tf.tensor(rng.values(y.size), y.shape);
        expectClose(y, referenceFused(c, activation, x, f, bias, alpha), `forward ${activation}`, 1e-5);
        const grads = (fn: (...t: tf.Tensor[]) => tf.Tensor) =>
            tf.grads((...t: tf.Tensor[]) => tf.sum(tf.mul(fn(...t), r)))(
                activation === 'prelu' ? [x, f, bias, alpha] : [x, f, bias]);
        const got = grads((a, b, bb, al) => ours(a, b, bb, al ?? alpha));
        const want = grads((a, b, bb, al) => referenceFused(c, activation, a, b, bb, al ?? alpha));
        got.forEach((g, k) => expectClose(g, want[k], `input ${k} ${activation} ${describeCase(c)}`));
      });
    }
  });

  it('match central differences through bias and activation', () => {
    const rng = new Random(8080);
    const c: Conv2dCase = {...randomConv2dCase(rng), xShape: [2, 3, 6, 5], filterShape: [2, 3, 3, 4],
                           strides: [2, 1], dilations: [1, 2], pad: 'same', dataFormat: 'NCHW',
                           dimRoundingMode: undefined};
    c.x = Array.from(rng.values(180));
    c.filter = Array.from(rng.values(72));
    tf.tidy(() => {
      const inputs = [tf.tensor(c.x, c.xShape), tf.tensor(c.filter, c.filterShape),
                      tf.tensor1d(rng.values(4))];
      const op = ([x, f, b]: tf.Tensor[]) => fusedIm2colConv2d({
        x: x as tf.Tensor4D, filter: f as tf.Tensor4D, strides: c.strides, pad: c.pad,
        dataFormat: 'NCHW', dilations: c.dilations, bias: b, activation: 'elu'});
      const r = rng.values(op(inputs).size);
      const rT = tf.tensor(r, op(inputs).shape);
      const grads = tf.grads((...t: tf.Tensor[]) => tf.sum(tf.mul(op(t), rT)))(inputs);
      inputs.forEach((_, which) => {
        const coords = someCoords(rng, inputs[which].size, 5);
        const numerical = numericalGradient(tf, t => tf.tidy(() => weightedSum(op(t), r)),
                                            inputs, which, coords, 1e-3);
        const analytic = coords.map(k => grads[which].dataSync()[k]);
        expect(relativeError(analytic, numerical)).toBeLessThan(NUMERICAL_TOLERANCE);
      });
    });
  });
});

describe('zero-expanded filter reference', () => {
  it('is tf.conv2d with dilation where tfjs has it (forward)', () => {
    const rng = new Random(3);
    tf.tidy(() => {
      const x = tf.tensor4d(rng.values(2 * 9 * 8 * 3), [2, 9, 8, 3]);
      const f = tf.tensor4d(rng.values(3 * 2 * 3 * 2), [3, 2, 3, 2]);
      const a = tf.conv2d(x, f, 1, 'same', 'NHWC', [2, 3]);
      const b = tf.conv2d(x, expandFilter(tf, f, [2, 3]), 1, 'same');
      expectClose(a, b, 'expanded filter', 1e-6);
    });
  });
});

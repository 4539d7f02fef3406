/**
 * fusedIm2colConv2d on the cpu backend: the same results as tf.fused.conv2d (bias
 * broadcasting, every activation, PReLU weight shapes), also where tfjs has no fused path
 * (NCHW with bias/activation, stride with dilation; reference: tf.conv2d + tf ops), and
 * clear errors for bad fused arguments, thrown before any work and leaking nothing.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import {fusedIm2colConv2d, FusedActivation, kernelStats, resetKernelStats} from '../src';
import {Conv2dCase, randomConv2dCase, referenceConv2d, relativeError} from './helpers/conv_cases';
import {Random} from './helpers/random';

const ACTIVATIONS: FusedActivation[] = ['linear', 'relu', 'relu6', 'prelu', 'leakyrelu', 'elu', 'sigmoid'];

beforeAll(async () => {
  await tf.setBackend('cpu');
});

function applyActivation(z: tf.Tensor, activation: FusedActivation, alpha?: tf.Tensor,
                         leakyreluAlpha?: number): tf.Tensor {
  switch (activation) {
    case 'linear': return z;
    case 'relu': return tf.relu(z);
    case 'relu6': return tf.relu6(z);
    case 'prelu': return tf.prelu(z, alpha as tf.Tensor);
    case 'leakyrelu': return tf.leakyRelu(z, leakyreluAlpha);
    case 'elu': return tf.elu(z);
    case 'sigmoid': return tf.sigmoid(z);
  }
}

describe('fusedIm2colConv2d vs tf.fused.conv2d (cpu, NHWC)', () => {
  it('agrees for every activation and bias / PReLU-weights shape', () => {
    const rng = new Random(123);
    let worst = 0;
    for (let i = 0; i < 140; i++) {
      let c = randomConv2dCase(rng);
      // tf.fused.conv2d refuses stride with dilation and NCHW with an activation.
      while (c.dataFormat !== 'NHWC' || (Math.max(...c.strides) > 1 && Math.max(...c.dilations) > 1)) {
        c = randomConv2dCase(rng);
      }
      const activation = ACTIVATIONS[i % ACTIVATIONS.length];
      tf.tidy(() => {
        const x = tf.tensor4d(c.x, c.xShape as [number, number, number, number]);
        const filter = tf.tensor4d(c.filter, c.filterShape as [number, number, number, number]);
        const outShape = referenceConv2d(tf, c).shape as number[];
        const outC = c.filterShape[3];
        const biasShape = rng.pick<number[] | null>([null, [], [1], [outC], [1, 1, outShape[2], outC], [outShape[1], 1, 1]]);
        const bias = biasShape == null ? undefined : tf.tensor(rng.values(biasShape.reduce((a, b) => a * b, 1)), biasShape);
        const alphaShape = rng.pick<number[]>([[], [1], [outC], [outShape[1], outShape[2], outC], [1, outShape[2], 1]]);
        const alpha = activation === 'prelu' ? tf.tensor(rng.values(alphaShape.reduce((a, b) => a * b, 1)), alphaShape) : undefined;
        // (tf.fused.conv2d's cpu kernel gives NaN without leakyreluAlpha; see the default test)
        const leakyreluAlpha = rng.pick([0.1, 0.2, 0.5]);
        const pad = typeof c.pad === 'number' ? [[0, 0], [c.pad, c.pad], [c.pad, c.pad], [0, 0]] as Conv2dCase['pad'] : c.pad;
        const args = {x, filter, strides: c.strides, pad, dilations: c.dilations,
                      dimRoundingMode: c.dimRoundingMode, bias, activation,
                      preluActivationWeights: alpha, leakyreluAlpha};
        const expected = tf.fused.conv2d(args as Parameters<typeof tf.fused.conv2d>[0]);
        const actual = fusedIm2colConv2d(args);
        expect(actual.shape).toEqual(expected.shape);
        const error = relativeError(actual.dataSync(), expected.dataSync());
        if (error > 1e-5) throw new Error(`case ${i} ${activation} bias ${biasShape}: error ${error}`);
        worst = Math.max(worst, error);
      });
    }
    console.log(`fused conv2d: worst relative error ${worst.toExponential(2)}`);
  });

  it('applies bias and activation in its own kernel (no extra ops)', () => {
    const x = tf.randomNormal([1, 6, 6, 2], 0, 1, 'float32', 5) as tf.Tensor4D;
    const filter = tf.randomNormal([3, 3, 2, 3], 0, 1, 'float32', 6) as tf.Tensor4D;
    const bias = tf.tensor1d([0.5, -1, 2]);
    resetKernelStats();
    const ran: string[] = [];
    const profile = tf.profile(() => fusedIm2colConv2d({x, filter, strides: 1, pad: 'same', bias, activation: 'relu6'}));
    return profile.then(info => {
      // The op's custom-gradient wrapper shows up under the op's name; no other kernel runs.
      for (const k of info.kernels) ran.push(k.name);
      expect(ran.filter(name => name !== 'fusedIm2colConv2d__op')).toEqual(['FusedIm2colConv2D']);
      expect(kernelStats().calls['FusedIm2colConv2D/cpu']).toBe(1);
      tf.dispose([x, filter, bias, info.result as tf.Tensor]);
    });
  });
});

describe('fusedIm2colConv2d where tfjs has no fused path (cpu)', () => {
  it('agrees with tf.conv2d + bias + activation for NCHW and stride with dilation', () => {
    const rng = new Random(321);
    let seenNchw = 0, seenStridedDilated = 0;
    for (let i = 0; i < 70; i++) {
      const c = randomConv2dCase(rng);
      const activation = ACTIVATIONS[i % ACTIVATIONS.length];
      seenNchw += +(c.dataFormat === 'NCHW');
      seenStridedDilated += +(Math.max(...c.strides) > 1 && Math.max(...c.dilations) > 1);
      tf.tidy(() => {
        const conv = referenceConv2d(tf, c);
        const outC = c.filterShape[3];
        const nchw = c.dataFormat === 'NCHW';
        const bias = tf.tensor1d(rng.values(outC));
        const alpha = tf.tensor1d(rng.values(outC));
        const perChannel = (t: tf.Tensor) => nchw ? tf.reshape(t, [outC, 1, 1]) : t;
        const expected = applyActivation(tf.add(conv, perChannel(bias)), activation, perChannel(alpha));
        const actual = fusedIm2colConv2d({
          x: tf.tensor4d(c.x, c.xShape as [number, number, number, number]),
          filter: tf.tensor4d(c.filter, c.filterShape as [number, number, number, number]),
          strides: c.strides, pad: c.pad, dataFormat: c.dataFormat, dilations: c.dilations,
          dimRoundingMode: c.dimRoundingMode, bias, activation, preluActivationWeights: alpha});
        expect(actual.shape).toEqual(expected.shape);
        const error = relativeError(actual.dataSync(), expected.dataSync());
        if (error > 1e-5) throw new Error(`case ${i} ${activation}: error ${error}`);
      });
    }
    expect(seenNchw).toBeGreaterThan(10);
    expect(seenStridedDilated).toBeGreaterThan(3);
  });

  it('uses tf.leakyRelu\'s default slope (0.2) when leakyreluAlpha is not given', () => {
    tf.tidy(() => {
      const x = tf.randomNormal([1, 6, 5, 2], 0, 1, 'float32', 3) as tf.Tensor4D;
      const filter = tf.randomNormal([3, 2, 2, 3], 0, 1, 'float32', 4) as tf.Tensor4D;
      const y = fusedIm2colConv2d({x, filter, strides: 1, pad: 'same', activation: 'leakyrelu'});
      const expected = tf.leakyRelu(tf.conv2d(x, filter, 1, 'same'));
      expect(relativeError(y.dataSync(), expected.dataSync())).toBeLessThan(1e-6);
      expect(tf.min(y).dataSync()[0]).toBeLessThan(0);
    });
  });

  it('takes a rank-3 x as a batch of one', () => {
    tf.tidy(() => {
      const x = tf.randomNormal([5, 7, 2], 0, 1, 'float32', 1) as tf.Tensor3D;
      const filter = tf.randomNormal([2, 2, 2, 3], 0, 1, 'float32', 2) as tf.Tensor4D;
      const y = fusedIm2colConv2d({x, filter, strides: 1, pad: 'valid', bias: [1, 2, 3], activation: 'elu'});
      const expected = tf.fused.conv2d({x, filter, strides: 1, pad: 'valid', bias: tf.tensor1d([1, 2, 3]), activation: 'elu'});
      expect(y.shape).toEqual([4, 6, 3]);
      expect(relativeError(y.dataSync(), expected.dataSync())).toBeLessThan(1e-6);
    });
  });
});

describe('fusedIm2colConv2d argument errors', () => {
  const made: tf.Tensor[] = [];
  const T = (shape: number[]) => {
    const t = tf.ones(shape);
    made.push(t);
    return t;
  };
  const base = () => ({x: T([1, 5, 5, 3]) as tf.Tensor4D, filter: T([2, 2, 3, 4]) as tf.Tensor4D,
                       strides: 1 as const, pad: 'valid' as const});
  const cases: Array<[string, () => unknown, RegExp]> = [
    ['unknown activation', () => fusedIm2colConv2d({...base(), activation: 'tanh' as never}),
     /fusedIm2colConv2d: argument 'activation' must be one of linear, relu, .*but got "tanh"/],
    ['bias of the wrong length', () => fusedIm2colConv2d({...base(), bias: T([3])}),
     /argument 'bias' must be a scalar or \[4\] or broadcast to the output \[1,4,4,4\], but got shape \[3\]/],
    ['rank-2 bias for NCHW', () => fusedIm2colConv2d({...base(), x: T([1, 3, 5, 5]) as tf.Tensor4D,
                                                      dataFormat: 'NCHW', bias: T([1, 4])}),
     /argument 'bias' must be a scalar or \[4\], but got shape \[1,4\]/],
    ['prelu without weights', () => fusedIm2colConv2d({...base(), activation: 'prelu'}),
     /argument 'preluActivationWeights' must be .* for activation 'prelu', but got none/],
    ['prelu weights of the wrong shape', () => fusedIm2colConv2d({...base(), activation: 'prelu',
                                                                  preluActivationWeights: T([2, 4])}),
     /argument 'preluActivationWeights' .* but got shape \[2,4\]/],
    ['non-number leakyreluAlpha', () => fusedIm2colConv2d({...base(), activation: 'leakyrelu',
                                                           leakyreluAlpha: '0.1' as never}),
     /argument 'leakyreluAlpha' must be a number/],
    ['int32 bias', () => fusedIm2colConv2d({...base(), bias: tf.tensor1d([1, 2, 3, 4], 'int32')}),
     /argument 'bias' must have dtype float32/],
    ['filter channels mismatch', () => fusedIm2colConv2d({...base(), filter: T([2, 2, 2, 4]) as tf.Tensor4D}),
     /argument 'filter' must have inChannels/],
  ];
  it.each(cases)('%s', (_, run, message) => {
    made.length = 0;
    const before = tf.memory().numTensors;
    expect(run).toThrow(message);
    const extra = tf.memory().numTensors - before - made.length;
    tf.dispose(made);
    // The int32 bias is the test's own tensor too.
    expect(extra).toBeLessThanOrEqual(_ === 'int32 bias' ? 1 : 0);
  });
});

/**
 * Fused bodies: fusedIm2colConv2d on the current backend against tf.fused.conv2d (bias
 * broadcasting, every activation, PReLU weight shapes), against tf.conv2d + tf ops where tfjs
 * has no fused path (NCHW with bias/activation, stride with dilation), its own kernel alone
 * doing the work, and tf.leakyRelu's default slope.
 */
import {Conv2dCase, randomConv2dCase, referenceConv2d, relativeError} from '../helpers/conv_cases';
import {Random} from '../helpers/random';
import {label, Lib, onBackend, Tensor, Tf, tidy} from './types';

type T4 = import('@tensorflow/tfjs-core').Tensor4D;
type T3 = import('@tensorflow/tfjs-core').Tensor3D;
type Activation = 'linear' | 'relu' | 'relu6' | 'prelu' | 'leakyrelu' | 'elu' | 'sigmoid';
const ACTIVATIONS: Activation[] = ['linear', 'relu', 'relu6', 'prelu', 'leakyrelu', 'elu', 'sigmoid'];

export interface FusedResult {
  index: number;
  label: string;
  shape: number[];
  expectedShape: number[];
  error: number;
  nchw: boolean;
  stridedDilated: boolean;
}

function size(shape: number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

function applyActivation(tf: Tf, z: Tensor, activation: Activation, alpha: Tensor,
                         leakyreluAlpha?: number): Tensor {
  switch (activation) {
    case 'linear': return z;
    case 'relu': return tf.relu(z);
    case 'relu6': return tf.relu6(z);
    case 'prelu': return tf.prelu(z, alpha);
    case 'leakyrelu': return tf.leakyRelu(z, leakyreluAlpha);
    case 'elu': return tf.elu(z);
    case 'sigmoid': return tf.sigmoid(z);
  }
}

/** NHWC cases tf.fused.conv2d takes, with random bias and PReLU-weight shapes; the reference
 *  is tf.fused.conv2d on cpu. */
export function fusedVsTfjs(tf: Tf, lib: Lib, arg: {seed: number, count: number}): FusedResult[] {
  const rng = new Random(arg.seed);
  const results: FusedResult[] = [];
  for (let i = 0; i < arg.count; i++) {
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
      const bias = biasShape == null ? undefined : tf.tensor(rng.values(size(biasShape)), biasShape);
      const alphaShape = rng.pick<number[]>([[], [1], [outC], [outShape[1], outShape[2], outC], [1, outShape[2], 1]]);
      const alpha = activation === 'prelu' ? tf.tensor(rng.values(size(alphaShape)), alphaShape) : undefined;
      // (tf.fused.conv2d's cpu kernel gives NaN without leakyreluAlpha; see leakyReluDefault)
      const leakyreluAlpha = rng.pick([0.1, 0.2, 0.5]);
      const pad = typeof c.pad === 'number' ? [[0, 0], [c.pad, c.pad], [c.pad, c.pad], [0, 0]] as Conv2dCase['pad'] : c.pad;
      const args = {x, filter, strides: c.strides, pad, dilations: c.dilations,
                    dimRoundingMode: c.dimRoundingMode, bias, activation,
                    preluActivationWeights: alpha, leakyreluAlpha};
      // On cpu: tfjs 4.22's webgl fused conv2d is wrong for some bias and PReLU-weight shapes
      // (a [1, 1, outW, outC] bias with prelu), where this op agrees with tf ops.
      const expected = onBackend(tf, 'cpu', () => tf.fused.conv2d(args as Parameters<typeof tf.fused.conv2d>[0]));
      const actual = lib.fusedIm2colConv2d(args);
      results.push({index: i, label: `${activation} bias ${JSON.stringify(biasShape)} ${label(c)}`,
                    shape: actual.shape, expectedShape: expected.shape,
                    error: relativeError(actual.dataSync(), expected.dataSync()),
                    nchw: false, stridedDilated: false});
    });
  }
  return results;
}

/** Any case, against tf.conv2d (the conv_cases reference) + bias + tf's activation. */
export function fusedNoTfjsPath(tf: Tf, lib: Lib,
                                arg: {seed: number, count: number, referenceBackend?: string}):
    FusedResult[] {
  const rng = new Random(arg.seed);
  const results: FusedResult[] = [];
  for (let i = 0; i < arg.count; i++) {
    const c = randomConv2dCase(rng);
    const activation = ACTIVATIONS[i % ACTIVATIONS.length];
    tf.tidy(() => {
      const outC = c.filterShape[3];
      const nchw = c.dataFormat === 'NCHW';
      const bias = tf.tensor1d(rng.values(outC));
      const alpha = tf.tensor1d(rng.values(outC));
      const perChannel = (t: Tensor) => nchw ? tf.reshape(t, [outC, 1, 1]) : t;
      // On the reference backend where given (wasm's tf.conv2d refuses NCHW).
      const expected = onBackend(tf, arg.referenceBackend ?? tf.getBackend(), () =>
          applyActivation(tf, tf.add(referenceConv2d(tf, c), perChannel(bias)), activation,
                          perChannel(alpha)));
      const actual = lib.fusedIm2colConv2d({
        x: tf.tensor4d(c.x, c.xShape as [number, number, number, number]),
        filter: tf.tensor4d(c.filter, c.filterShape as [number, number, number, number]),
        strides: c.strides, pad: c.pad, dataFormat: c.dataFormat, dilations: c.dilations,
        dimRoundingMode: c.dimRoundingMode, bias, activation, preluActivationWeights: alpha});
      results.push({index: i, label: `${activation} ${label(c)}`, shape: actual.shape,
                    expectedShape: expected.shape,
                    error: relativeError(actual.dataSync(), expected.dataSync()), nchw,
                    stridedDilated: Math.max(...c.strides) > 1 && Math.max(...c.dilations) > 1});
    });
  }
  return results;
}

/** The kernels tf.profile sees for one fused call, and the package's call counters. */
export async function fusedKernelsRun(tf: Tf, lib: Lib):
    Promise<{kernels: string[], calls: Record<string, number>}> {
  const x = tf.randomNormal([1, 6, 6, 2], 0, 1, 'float32', 5) as never;
  const filter = tf.randomNormal([3, 3, 2, 3], 0, 1, 'float32', 6) as never;
  const bias = tf.tensor1d([0.5, -1, 2]);
  // A warm-up, so that uploads are not part of the profile.
  tf.dispose(lib.fusedIm2colConv2d({x, filter, strides: 1, pad: 'same', bias, activation: 'relu6'}));
  lib.resetKernelStats();
  const info = await tf.profile(() => lib.fusedIm2colConv2d({x, filter, strides: 1, pad: 'same', bias,
                                                             activation: 'relu6'}));
  const calls = {...lib.kernelStats().calls};
  tf.dispose([x, filter, bias, info.result as Tensor]);
  return {kernels: info.kernels.map(k => k.name), calls};
}

/** leakyrelu without leakyreluAlpha, and a rank-3 x; errors against tf ops. */
export function fusedDefaults(tf: Tf, lib: Lib):
    {leakyError: number, leakyMin: number, rank3Shape: number[], rank3Error: number} {
  return tidy(tf, () => {
    const x = tf.randomNormal([1, 6, 5, 2], 0, 1, 'float32', 3) as T4;
    const filter = tf.randomNormal([3, 2, 2, 3], 0, 1, 'float32', 4) as T4;
    const y = lib.fusedIm2colConv2d({x, filter, strides: 1, pad: 'same', activation: 'leakyrelu'});
    const expected = tf.leakyRelu(tf.conv2d(x, filter, 1, 'same'));
    const x3 = tf.randomNormal([5, 7, 2], 0, 1, 'float32', 1) as T3;
    const f3 = tf.randomNormal([2, 2, 2, 3], 0, 1, 'float32', 2) as T4;
    const y3 = lib.fusedIm2colConv2d({x: x3, filter: f3, strides: 1, pad: 'valid', bias: [1, 2, 3],
                                      activation: 'elu'});
    const expected3 = tf.elu(tf.add(tf.conv2d(x3, f3, 1, 'valid'), tf.tensor1d([1, 2, 3])));
    return {
      leakyError: relativeError(y.dataSync(), expected.dataSync()), leakyMin: tf.min(y).dataSync()[0],
      rank3Shape: y3.shape, rank3Error: relativeError(y3.dataSync(), expected3.dataSync()),
    };
  });
}

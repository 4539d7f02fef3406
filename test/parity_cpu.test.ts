/**
 * Parity of the CPU kernels with tf.conv2d over a seeded random sweep (the reference is
 * described in helpers/conv_cases.ts), on every CPU GEMM path (WebAssembly SIMD and the
 * TypeScript fallback). Reports the worst relative error seen.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import {CPU_GEMM_FLAG, im2colConv1d, im2colConv2d} from '../src';
import {availableCpuGemms} from '../src/cpu/gemm';
import {Conv1dCase, Conv2dCase, randomConv1dCase, randomConv2dCase, referenceConv1d, referenceConv2d, relativeError} from './helpers/conv_cases';
import {Random} from './helpers/random';

const TOLERANCE = 1e-5;
const CONV2D_CASES = 600;
const CONV1D_CASES = 250;

beforeAll(async () => {
  await tf.setBackend('cpu');
});

it('both GEMM paths are available in Node', () => {
  expect(availableCpuGemms().sort()).toEqual(['typescript', 'wasm']);
});

function runConv2d(c: Conv2dCase, rank3: boolean): tf.Tensor {
  return tf.tidy(() => {
    let x = tf.tensor(c.x, c.xShape);
    if (rank3) x = tf.squeeze(x, [0]);
    const out = im2colConv2d(x as tf.Tensor4D, tf.tensor4d(c.filter, c.filterShape as [number, number, number, number]),
                             c.strides, c.pad, c.dataFormat, c.dilations, c.dimRoundingMode);
    return rank3 ? tf.expandDims(out, 0) : out;
  });
}

function runConv1d(c: Conv1dCase, rank2: boolean): tf.Tensor {
  return tf.tidy(() => {
    let x = tf.tensor(c.x, c.xShape);
    if (rank2) x = tf.squeeze(x, [0]);
    const out = im2colConv1d(x as tf.Tensor3D, tf.tensor3d(c.filter, c.filterShape as [number, number, number]),
                             c.stride, c.pad, c.dataFormat, c.dilation);
    return rank2 ? tf.expandDims(out, 0) : out;
  });
}

function describeCase(c: object): string {
  return JSON.stringify(c, (key, value) => key === 'x' || key === 'filter' ? undefined : value);
}

describe.each(availableCpuGemms())('%s GEMM', gemm => {
  beforeAll(() => tf.env().set(CPU_GEMM_FLAG, gemm));
  afterAll(() => tf.env().set(CPU_GEMM_FLAG, 'auto'));

  describe('im2colConv2d vs tf.conv2d (cpu)', () => {
    it(`agrees on ${CONV2D_CASES} random configurations`, () => {
      const rng = new Random(20190401);
      let worst = 0;
      const coverage = {strideAndDilation: 0, nchw: 0, explicit: 0, sameEvenKernel: 0, rank3: 0,
                        kernelLargerThanInput: 0, rounding: 0};
      for (let i = 0; i < CONV2D_CASES; i++) {
        const c = randomConv2dCase(rng);
        const rank3 = c.xShape[0] === 1 && rng.next() < 0.5;
        const expected = referenceConv2d(tf, c);
        const actual = runConv2d(c, rank3);
        expect({case: describeCase(c), shape: actual.shape}).toEqual({case: describeCase(c), shape: expected.shape});
        const error = relativeError(actual.dataSync(), expected.dataSync());
        if (error > TOLERANCE) throw new Error(`case ${i}: error ${error} for ${describeCase(c)}`);
        worst = Math.max(worst, error);
        tf.dispose([expected, actual]);
        const spatial = c.dataFormat === 'NHWC' ? c.xShape.slice(1, 3) : c.xShape.slice(2, 4);
        coverage.strideAndDilation += +(Math.max(...c.strides) > 1 && Math.max(...c.dilations) > 1);
        coverage.nchw += +(c.dataFormat === 'NCHW');
        coverage.explicit += +Array.isArray(c.pad);
        coverage.sameEvenKernel += +(c.pad === 'same' && (c.filterShape[0] % 2 === 0 || c.filterShape[1] % 2 === 0));
        coverage.rank3 += +rank3;
        coverage.kernelLargerThanInput += +(c.filterShape[0] > spatial[0] || c.filterShape[1] > spatial[1]);
        coverage.rounding += +(c.dimRoundingMode != null);
      }
      console.log(`${gemm} GEMM, conv2d sweep: ${CONV2D_CASES} cases, worst relative error ${worst.toExponential(2)}, ` +
                  `coverage ${JSON.stringify(coverage)}`);
      for (const count of Object.values(coverage)) expect(count).toBeGreaterThan(10);
    });
  });

  describe('im2colConv1d vs tf.conv2d on [batch, 1, width, channels] (cpu)', () => {
    it(`agrees on ${CONV1D_CASES} random configurations`, () => {
      const rng = new Random(1245);
      let worst = 0;
      const pads: Record<string, number> = {};
      for (let i = 0; i < CONV1D_CASES; i++) {
        const c = randomConv1dCase(rng);
        const rank2 = c.xShape[0] === 1 && rng.next() < 0.5;
        const expected = referenceConv1d(tf, c);
        const actual = runConv1d(c, rank2);
        expect({case: describeCase(c), shape: actual.shape}).toEqual({case: describeCase(c), shape: expected.shape});
        const error = relativeError(actual.dataSync(), expected.dataSync());
        if (error > TOLERANCE) throw new Error(`case ${i}: error ${error} for ${describeCase(c)}`);
        worst = Math.max(worst, error);
        tf.dispose([expected, actual]);
        const kind = Array.isArray(c.pad) ? 'explicit' : typeof c.pad === 'number' ? 'number' : c.pad;
        pads[kind] = (pads[kind] ?? 0) + 1;
      }
      console.log(`${gemm} GEMM, conv1d sweep: ${CONV1D_CASES} cases, worst relative error ${worst.toExponential(2)}, ` +
                  `pads ${JSON.stringify(pads)}`);
      expect(Object.keys(pads).sort()).toEqual(['causal', 'explicit', 'number', 'same', 'valid']);
    });
  });
});

/**
 * The im2col workspace stays under IM2COL_WORKSPACE_BYTES (tiles over output rows, across
 * images for NHWC and per image for NCHW), and the Im2colConv2D kernel is a drop-in for
 * tfjs's Conv2D on the cpu backend.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import {Im2colConv2D, im2colConv2d, kernelStats, resetKernelStats, WORKSPACE_BYTES_FLAG} from '../src';
import {randomConv2dCase, referenceConv2d, relativeError} from './helpers/conv_cases';
import {Random} from './helpers/random';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('bounded workspace', () => {
  const defaultBytes = tf.env().getNumber(WORKSPACE_BYTES_FLAG);
  afterEach(() => tf.env().set(WORKSPACE_BYTES_FLAG, defaultBytes));

  it('many small tiles give the same results as tf.conv2d', () => {
    const rng = new Random(7);
    for (let i = 0; i < 80; i++) {
      const c = randomConv2dCase(rng);
      const rowBytes = 4 * c.filterShape[0] * c.filterShape[1] * c.filterShape[2];
      // Room for 1 to 5 patch rows: tiles end mid-row, mid-image and across images.
      const budget = rowBytes * rng.int(1, 5);
      tf.env().set(WORKSPACE_BYTES_FLAG, budget);
      resetKernelStats();
      const expected = referenceConv2d(tf, c);
      const actual = im2colConv2d(tf.tensor4d(c.x, c.xShape as [number, number, number, number]),
          tf.tensor4d(c.filter, c.filterShape as [number, number, number, number]), c.strides,
          c.pad, c.dataFormat, c.dilations, c.dimRoundingMode);
      expect(relativeError(actual.dataSync(), expected.dataSync())).toBeLessThan(1e-5);
      expect(kernelStats().peakWorkspaceBytes).toBeLessThanOrEqual(budget);
      tf.dispose([expected, actual]);
    }
  });

  it('a large input tiles within a 1 MiB bound', () => {
    // Patch matrix of the whole image would be 256*256*(5*5*8)*4 = 52 MiB; with 1 MiB it tiles.
    tf.env().set(WORKSPACE_BYTES_FLAG, 1 << 20);
    resetKernelStats();
    const x = tf.randomNormal([1, 256, 256, 8], 0, 1, 'float32', 5) as tf.Tensor4D;
    const filter = tf.randomNormal([5, 5, 8, 4], 0, 1, 'float32', 6) as tf.Tensor4D;
    const actual = im2colConv2d(x, filter, 1, 'same');
    const expected = tf.conv2d(x, filter, 1, 'same');
    expect(relativeError(actual.dataSync(), expected.dataSync())).toBeLessThan(1e-5);
    expect(kernelStats().peakWorkspaceBytes).toBeLessThanOrEqual(1 << 20);
    tf.dispose([x, filter, actual, expected]);
  });
});

describe('Im2colConv2D as a drop-in for Conv2D (cpu)', () => {
  it('registered under the name Conv2D, tf.conv2d and tf.conv1d keep their results', () => {
    const rng = new Random(99);
    const cases = Array.from({length: 40}, () => randomConv2dCase(rng))
        .filter(c => !(Math.max(...c.strides) > 1 && Math.max(...c.dilations) > 1));
    const conv1dInputs = [
      {x: tf.randomNormal([2, 30, 4], 0, 1, 'float32', 1) as tf.Tensor3D,
       f: tf.randomNormal([5, 4, 3], 0, 1, 'float32', 2) as tf.Tensor3D, stride: 2, pad: 'same' as const, dilation: 1},
      {x: tf.randomNormal([1, 25, 2], 0, 1, 'float32', 3) as tf.Tensor3D,
       f: tf.randomNormal([3, 2, 6], 0, 1, 'float32', 4) as tf.Tensor3D, stride: 1, pad: 'valid' as const, dilation: 3},
    ];
    const runAll = () => [
      ...cases.map(c => referenceConv2d(tf, c)),
      ...conv1dInputs.map(({x, f, stride, pad, dilation}) => tf.conv1d(x, f, stride, pad, 'NWC', dilation)),
    ];
    const original = tf.getKernel('Conv2D', 'cpu')!;
    const ours = tf.getKernel(Im2colConv2D, 'cpu')!;
    const expected = runAll();
    resetKernelStats();
    tf.unregisterKernel('Conv2D', 'cpu');
    tf.registerKernel({...ours, kernelName: 'Conv2D'});
    let actual: tf.Tensor[];
    try {
      actual = runAll();
    } finally {
      tf.unregisterKernel('Conv2D', 'cpu');
      tf.registerKernel(original);
    }
    expect(kernelStats().calls['Im2colConv2D/cpu']).toBe(expected.length);
    for (let i = 0; i < expected.length; i++) {
      expect(actual[i].shape).toEqual(expected[i].shape);
      expect(relativeError(actual[i].dataSync(), expected[i].dataSync())).toBeLessThan(1e-5);
    }
    expect(tf.getKernel('Conv2D', 'cpu')).toBe(original);
    tf.dispose([...expected, ...actual]);
    conv1dInputs.forEach(({x, f}) => tf.dispose([x, f]));
  });
});

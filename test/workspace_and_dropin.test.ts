/**
 * The im2col workspace stays under IM2COL_WORKSPACE_BYTES (tiles over output rows, across
 * images for NHWC and per image for NCHW), and the Im2colConv2D kernel is a drop-in for
 * tfjs's Conv2D on the cpu backend.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import {Im2colConv2D, im2colConv2d, im2colConv3d, kernelStats, resetKernelStats, WORKSPACE_BYTES_FLAG} from '../src';
import './helpers/tfjs_gradients';
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

describe('bounded workspace, 3D gradients', () => {
  it('the 3D filter and input gradients tile vol2col within the bound, as tf.conv3d', () => {
    const rng = new Random(9);
    const x = tf.tensor5d(rng.values(2 * 6 * 9 * 8 * 3), [2, 6, 9, 8, 3]);
    const f = tf.tensor5d(rng.values(3 * 3 * 3 * 3 * 4), [3, 3, 3, 3, 4]);
    const loss = (conv: (a: tf.Tensor5D, b: tf.Tensor5D) => tf.Tensor) =>
        (a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.square(conv(a as tf.Tensor5D, b as tf.Tensor5D)));
    const [ex, ef] = tf.grads(loss((a, b) => tf.conv3d(a, b, 1, 'same')))([x, f]);
    // Room for 4 patch rows of 81 values: the whole patch matrix is 864 rows per image.
    const budget = 4 * 81 * 4;
    const defaultBytes = tf.env().getNumber(WORKSPACE_BYTES_FLAG);
    tf.env().set(WORKSPACE_BYTES_FLAG, budget);
    resetKernelStats();
    let dx: tf.Tensor, df: tf.Tensor;
    try {
      [dx, df] = tf.grads(loss((a, b) => im2colConv3d(a, b, 1, 'same')))([x, f]);
    } finally {
      tf.env().set(WORKSPACE_BYTES_FLAG, defaultBytes);
    }
    expect(kernelStats().calls['Im2colConv3DBackpropFilter/cpu']).toBe(1);
    expect(kernelStats().calls['Vol2col/cpu']).toBeUndefined();
    expect(kernelStats().peakWorkspaceBytes).toBeLessThanOrEqual(budget);
    expect(relativeError(dx.dataSync(), ex.dataSync())).toBeLessThan(1e-4);
    expect(relativeError(df.dataSync(), ef.dataSync())).toBeLessThan(1e-4);
    tf.dispose([x, f, ex, ef, dx, df]);
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

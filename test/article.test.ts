/** The article's three examples reproduce the seed document's matrices exactly. */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import {explainConv1d, explainConv2d, im2col, im2colConv1d, im2colConv2d} from '../src';
import {example1, example2, example3} from './helpers/article';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

function transpose2d(m: number[][]): number[][] {
  return m[0].map((_, j) => m.map(row => row[j]));
}

describe('Example 1: one channel, one filter', () => {
  it('explainConv2d gives the seed P, K, K·P and a 3x3x1 output', () => {
    const {P, K, KP, output} = explainConv2d(example1.x, example1.filter, 1, 'valid');
    expect(P.arraySync()).toEqual(example1.P);
    expect(K.arraySync()).toEqual(example1.K);
    expect(KP.arraySync()).toEqual(example1.KP);
    expect(output.shape).toEqual([3, 3, 1]);
    expect((output.arraySync() as number[][][]).flat(2)).toEqual(example1.KP[0]);
  });

  it('im2col rows are the columns of P', () => {
    const rows = im2col(example1.x, 2, 1, 'valid');
    expect(rows.shape).toEqual([1, 9, 4]);
    expect(rows.arraySync()[0]).toEqual(transpose2d(example1.P));
  });
});

describe('Example 2: three channels, two filters', () => {
  it('explainConv2d gives K = [[1..12], [13..24]] and the seed K·P', () => {
    const {P, K, KP, output} = explainConv2d(example2.x, example2.filter, 1, 'valid');
    expect(P.shape).toEqual([12, 9]);
    expect(K.arraySync()).toEqual(example2.K);
    expect(KP.arraySync()).toEqual(example2.KP);
    // NHWC output: output[h][w] = [KP[0][3h+w], KP[1][3h+w]].
    expect(output.arraySync()).toEqual([0, 1, 2].map(h => [0, 1, 2].map(
        w => [example2.KP[0][3 * h + w], example2.KP[1][3 * h + w]])));
  });

  it('column i of P is the channel-major patch i', () => {
    const {P} = explainConv2d(example2.x, example2.filter, 1, 'valid');
    const columns = transpose2d(P.arraySync());
    // Patch at (0,0): channel c holds 16c + [1, 2, 5, 6].
    expect(columns[0]).toEqual([1, 2, 5, 6, 17, 18, 21, 22, 33, 34, 37, 38]);
  });

  it('im2colConv2d matches in NCHW too', () => {
    const xNchw = tf.expandDims(tf.transpose(tf.tensor3d(example2.x), [2, 0, 1]), 0);
    const out = im2colConv2d(xNchw as tf.Tensor4D, example2.filter, 1, 'valid', 'NCHW');
    expect(out.shape).toEqual([1, 2, 3, 3]);
    expect((out.arraySync() as number[][][][])[0].map(c => c.flat())).toEqual(example2.KP);
  });
});

describe('Example 3: 1D convolution, stride 2, padding 2, dilation 2', () => {
  it('explainConv1d gives the seed P (12x5), K and K·P', () => {
    const {P, K, KP, output} = explainConv1d(example3.x, example3.filter, example3.stride,
                                              example3.pad, example3.dilation);
    expect(P.arraySync()).toEqual(example3.P);
    expect(K.arraySync()).toEqual(example3.K);
    expect(KP.arraySync()).toEqual(example3.KP);
    expect(output.arraySync()).toEqual(example3.output);
  });

  it('im2colConv1d with a batch, and the explicit-padding form, give the same output', () => {
    const numeric = im2colConv1d([example3.x], example3.filter, 2, 2, 'NWC', 2);
    const explicit = im2colConv1d([example3.x], example3.filter, 2, [[0, 0], [2, 2], [0, 0]],
                                  'NWC', 2);
    expect(numeric.arraySync()).toEqual([example3.output]);
    expect(explicit.arraySync()).toEqual([example3.output]);
  });

  it('the padding-0 reading (stride 2, dilation 1) gives the second seed K·P', () => {
    const {P, KP} = explainConv1d(example3.x, example3.filter, 2, 'valid');
    expect(P.shape).toEqual([12, 5]);
    expect(KP.arraySync()).toEqual(example3.unpaddedKP);
    const out = im2colConv1d(example3.x, example3.filter, 2, 0);
    expect(out.arraySync()).toEqual(transpose2d(example3.unpaddedKP));
  });
});

/**
 * useIm2col with whole tf.layers models on the cpu backend: predictions, kernel counters,
 * training (same loss curve as tfjs, dilated convolutions that tfjs cannot train), a model
 * saved to memory and loaded back, and exact restoration of tfjs's kernels and gradients.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as tfl from '@tensorflow/tfjs-layers';
import './helpers/tfjs_gradients';
import {fusedIm2colConv2d, kernelStats, resetKernelStats, useIm2col} from '../src';
import {relativeError} from './helpers/conv_cases';
import {Random} from './helpers/random';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** A small CNN: conv2d (bias, relu), pooling, conv1d, dense; seeded initial weights. */
function smallCnn(options: {dilation?: number, activation?: 'relu' | 'linear'} = {}): tfl.LayersModel {
  const seed = (s: number) => tfl.initializers.glorotUniform({seed: s});
  const model = tfl.sequential();
  model.add(tfl.layers.conv2d({inputShape: [10, 10, 2], filters: 4, kernelSize: 3, padding: 'same',
                               activation: options.activation ?? 'relu', dilationRate: options.dilation ?? 1,
                               kernelInitializer: seed(1), biasInitializer: tfl.initializers.randomUniform({minval: -0.5, maxval: 0.5, seed: 4})}));
  model.add(tfl.layers.maxPooling2d({poolSize: 2}));
  model.add(tfl.layers.reshape({targetShape: [25, 4]}));
  model.add(tfl.layers.conv1d({filters: 3, kernelSize: 3, activation: 'relu', dilationRate: options.dilation ?? 1,
                               kernelInitializer: seed(2)}));
  model.add(tfl.layers.flatten());
  model.add(tfl.layers.dense({units: 2, kernelInitializer: seed(3)}));
  model.compile({optimizer: tf.train.sgd(0.01), loss: 'meanSquaredError'});
  return model;
}

function data(n: number, seed: number): {xs: tf.Tensor, ys: tf.Tensor} {
  const rng = new Random(seed);
  return {xs: tf.tensor4d(rng.values(n * 10 * 10 * 2), [n, 10, 10, 2]),
          ys: tf.tensor2d(rng.values(n * 2), [n, 2])};
}

async function fitLosses(model: tfl.LayersModel, epochs: number): Promise<number[]> {
  const {xs, ys} = data(16, 7);
  const history = await model.fit(xs, ys, {epochs, batchSize: 8, shuffle: false, verbose: 0});
  tf.dispose([xs, ys]);
  return history.history.loss as number[];
}

function weightsOf(model: tfl.LayersModel): Float32Array[] {
  return model.getWeights().map(w => w.dataSync() as Float32Array);
}

describe('useIm2col with a tf.layers CNN (cpu)', () => {
  it('predicts what tfjs predicts, and the counters show im2col kernels ran', () => {
    const model = smallCnn();
    const {xs, ys} = data(4, 1);
    const expected = model.predict(xs) as tf.Tensor;
    resetKernelStats();
    const restore = useIm2col();
    const actual = model.predict(xs) as tf.Tensor;
    restore();
    expect(relativeError(actual.dataSync(), expected.dataSync())).toBeLessThan(1e-5);
    const calls = kernelStats().calls;
    // conv2d + relu runs fused (FusedConv2D); conv1d goes through tf.conv1d (Conv2D).
    expect(calls['FusedConv2D/cpu']).toBe(1);
    expect(calls['Conv2D/cpu']).toBe(1);
    tf.dispose([xs, ys, expected, actual]);
    model.dispose();
  });

  it('trains with the same loss curve as tfjs, and the weights change', async () => {
    const plain = smallCnn();
    const switched = smallCnn();
    const initial = weightsOf(switched);
    expect(weightsOf(plain).map(w => Array.from(w))).toEqual(initial.map(w => Array.from(w)));
    const expected = await fitLosses(plain, 4);
    resetKernelStats();
    const restore = useIm2col();
    let actual: number[];
    try {
      actual = await fitLosses(switched, 4);
    } finally {
      restore();
    }
    expect(actual.length).toBe(4);
    expect(relativeError(actual, expected)).toBeLessThan(1e-4);
    // The gradients ran as im2col GEMMs: Im2col for filter gradients, Col2im for input ones.
    const calls = kernelStats().calls;
    expect(calls['Im2col/cpu']).toBeGreaterThan(0);
    expect(calls['Col2im/cpu']).toBeGreaterThan(0);
    const trained = weightsOf(switched);
    const changed = trained.filter((w, i) => relativeError(w, initial[i]) > 1e-6).length;
    expect(changed).toBe(trained.length);
    expect(weightsOf(plain).every((w, i) => relativeError(w, trained[i]) < 1e-4)).toBe(true);
    plain.dispose();
    switched.dispose();
  });

  it('trains a model with dilated conv layers (linear and relu), which tfjs alone cannot', async () => {
    for (const activation of ['linear', 'relu'] as const) {
      const plain = smallCnn({dilation: 2, activation});
      await expect(fitLosses(plain, 1)).rejects.toThrow(/dilation rates greater than 1 are not yet supported/);
      plain.dispose();

      const model = smallCnn({dilation: 2, activation});
      const restore = useIm2col();
      let losses: number[];
      try {
        losses = await fitLosses(model, 6);
      } finally {
        restore();
      }
      console.log(`dilated ${activation} model, losses under useIm2col: ${losses.map(l => l.toFixed(4))}`);
      expect(losses.every(Number.isFinite)).toBe(true);
      expect(losses[losses.length - 1]).toBeLessThan(losses[0]);
      model.dispose();
    }
  });

  it('predicts the same with a model saved to memory and loaded back', async () => {
    const model = smallCnn({dilation: 2});
    const {xs, ys} = data(3, 11);
    const expected = model.predict(xs) as tf.Tensor;
    let artifacts: tf.io.ModelArtifacts | undefined;
    await model.save(tf.io.withSaveHandler(async a => {
      artifacts = a;
      return {modelArtifactsInfo: {dateSaved: new Date(), modelTopologyType: 'JSON'}};
    }));
    const restore = useIm2col();
    resetKernelStats();
    let actual: tf.Tensor;
    try {
      const loaded = await tfl.loadLayersModel(tf.io.fromMemory(artifacts as tf.io.ModelArtifacts));
      actual = loaded.predict(xs) as tf.Tensor;
      loaded.dispose();
    } finally {
      restore();
    }
    expect(kernelStats().calls['FusedConv2D/cpu']).toBe(1);
    expect(relativeError(actual.dataSync(), expected.dataSync())).toBeLessThan(1e-5);
    tf.dispose([xs, ys, expected, actual]);
    model.dispose();
  });
});

describe('useIm2col restores tfjs exactly (cpu)', () => {
  const snapshot = () => ({
    conv2d: tf.getKernel('Conv2D', 'cpu'),
    fused: tf.getKernel('FusedConv2D', 'cpu'),
    grad: tf.getGradient('Conv2D'),
    customGrad: Object.prototype.hasOwnProperty.call(tf.engine(), 'customGrad'),
  });

  function results(): Float32Array[] {
    return tf.tidy(() => {
      const rng = new Random(99);
      const x = tf.tensor4d(rng.values(2 * 7 * 6 * 3), [2, 7, 6, 3]);
      const f = tf.tensor4d(rng.values(3 * 2 * 3 * 4), [3, 2, 3, 4]);
      const b = tf.tensor1d(rng.values(4));
      const x1 = tf.tensor3d(rng.values(2 * 9 * 3), [2, 9, 3]);
      const f1 = tf.tensor3d(rng.values(3 * 3 * 2), [3, 3, 2]);
      const grads = tf.grads((a: tf.Tensor, c: tf.Tensor) =>
          tf.sum(tf.sin(tf.fused.conv2d({x: a as tf.Tensor4D, filter: c as tf.Tensor4D, strides: 2,
                                          pad: 'same', bias: b, activation: 'relu'}))))([x, f]);
      const grads2 = tf.grads((a: tf.Tensor, c: tf.Tensor) =>
          tf.sum(tf.sin(tf.conv2d(a as tf.Tensor4D, c as tf.Tensor4D, 1, 'valid'))))([x, f]);
      const grads3 = tf.grads((a: tf.Tensor, c: tf.Tensor) =>
          tf.sum(tf.sin(tf.conv2d(a as tf.Tensor4D, c as tf.Tensor4D, 1, 1))))([x, f]);
      const xNchw = tf.transpose(x, [0, 3, 1, 2]) as tf.Tensor4D;
      const outs = [
        tf.conv2d(xNchw, f, 1, 'same', 'NCHW'),
        tf.conv2d(x, f, [2, 1], 'same'), tf.conv2d(x, f, 1, 'valid', 'NHWC', [2, 1]),
        tf.conv2d(x, f, 1, 1),  // tfjs's numeric-pad sizing, non-square filter
        tf.conv1d(x1, f1, 2, 'same'), tf.conv1d(x1, f1, 1, 'valid', 'NWC', 2),
        tf.fused.conv2d({x, filter: f, strides: 1, pad: 'same', bias: b, activation: 'elu'}),
        ...grads, ...grads2, ...grads3,
      ];
      return outs.map(t => t.dataSync() as Float32Array);
    });
  }

  it('swaps the kernels, gradient and customGrad, and restores the very same objects', () => {
    const before = snapshot();
    const expected = results();
    const restore = useIm2col();
    const during = snapshot();
    expect(during.conv2d).not.toBe(before.conv2d);
    expect(during.fused).not.toBe(before.fused);
    expect(during.grad).not.toBe(before.grad);
    expect(during.customGrad).toBe(true);
    resetKernelStats();
    const switched = results();
    expect(kernelStats().calls['Conv2D/cpu']).toBeGreaterThan(0);
    expect(kernelStats().calls['FusedConv2D/cpu']).toBeGreaterThan(0);
    restore();
    expect(snapshot()).toEqual(before);
    const after = snapshot();
    expect(after.conv2d).toBe(before.conv2d);
    expect(after.fused).toBe(before.fused);
    expect(after.grad).toBe(before.grad);
    // tfjs's own behaviour under the switch (same shapes, results within rounding) ...
    switched.forEach((values, i) => {
      expect(values.length).toBe(expected[i].length);
      expect(relativeError(values, expected[i])).toBeLessThan(1e-5);
    });
    // ... and bit for bit after restore.
    results().forEach((values, i) => expect(Array.from(values)).toEqual(Array.from(expected[i])));
  });

  it('is harmless to call twice and to restore twice', () => {
    const before = snapshot();
    const restoreOuter = useIm2col();
    const switched = snapshot();
    const restoreInner = useIm2col({backends: ['cpu']});
    expect(snapshot()).toEqual(switched);
    restoreInner();
    expect(snapshot().conv2d).toBe(switched.conv2d);
    restoreOuter();
    restoreOuter();
    restoreInner();
    expect(snapshot()).toEqual(before);
    expect(snapshot().conv2d).toBe(before.conv2d);
  });

  it('leaks no tensors in forward and backward passes under the switch', () => {
    const rng = new Random(5);
    const x = tf.tensor4d(rng.values(2 * 8 * 7 * 3), [2, 8, 7, 3]);
    const f = tf.tensor4d(rng.values(3 * 3 * 3 * 2), [3, 3, 3, 2]);
    const b = tf.tensor1d(rng.values(2));
    const alpha = tf.tensor1d(rng.values(2));
    const restore = useIm2col();
    try {
      const before = tf.memory().numTensors;
      for (const activation of ['linear', 'relu', 'leakyrelu', 'prelu'] as const) {
        const [dx, df, db] = tf.grads((a: tf.Tensor, c: tf.Tensor, d: tf.Tensor) => tf.sum(
            tf.fused.conv2d({x: a as tf.Tensor4D, filter: c as tf.Tensor4D, strides: 1, pad: 'same',
                             dilations: 2, bias: d, activation,
                             preluActivationWeights: alpha})))([x, f, b]);
        const ours = tf.grads((a: tf.Tensor, c: tf.Tensor, d: tf.Tensor, e?: tf.Tensor) => tf.sum(
            fusedIm2colConv2d({x: a as tf.Tensor4D, filter: c as tf.Tensor4D, strides: 2, pad: 'same',
                               dilations: 2, bias: d, activation, preluActivationWeights: e})))(
            activation === 'prelu' ? [x, f, b, alpha] : [x, f, b]);
        tf.dispose([dx, df, db, ...ours]);
      }
      const w = tf.ones([3, 3, 4]) as tf.Tensor3D;
      const x1 = tf.reshape(x, [2, 56, 3]) as tf.Tensor3D;
      const [dx1, dw1] = tf.grads((a: tf.Tensor, c: tf.Tensor) =>
          tf.sum(tf.conv1d(a as tf.Tensor3D, c as tf.Tensor3D, 1, 'same', 'NWC', 2)))([x1, w]);
      tf.dispose([w, x1, dx1, dw1]);
      expect(tf.memory().numTensors).toBe(before);
    } finally {
      restore();
      tf.dispose([x, f, b, alpha]);
    }
  });

  it('refuses a backend that is not loaded or unknown, changing nothing', () => {
    const before = snapshot();
    expect(() => useIm2col({backends: ['webgl']})).toThrow(/useIm2col: backend 'webgl' is not loaded/);
    expect(() => useIm2col({backends: ['wasm']})).toThrow(/useIm2col: backend 'wasm' is not loaded/);
    expect(() => useIm2col({backends: ['webgpu' as never]})).toThrow(/option 'backends' must be an array of 'cpu', 'wasm' and 'webgl'/);
    expect(snapshot()).toEqual(before);
  });
});

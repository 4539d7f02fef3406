/**
 * useIm2col on tfjs's wasm backend (single-threaded in Node), which alone refuses NCHW and
 * cannot train conv nets (no Conv2DBackpropFilter): tf.conv2d NCHW against tfjs's cpu
 * conv2d, a tf.layers CNN with a dilated conv layer trained on wasm, and exact restoration.
 * The shared bodies (parity, errors, fused, gradients) run on wasm in shared_bodies.test.ts.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import * as tfl from '@tensorflow/tfjs-layers';
import './helpers/tfjs_gradients';
import {kernelStats, resetKernelStats, useIm2col} from '../src';
import {relativeError} from './helpers/conv_cases';
import {Random} from './helpers/random';

let isTest: boolean;
beforeAll(async () => {
  // Both initialised: references run on cpu.
  expect(await tf.setBackend('cpu')).toBe(true);
  expect(await tf.setBackend('wasm')).toBe(true);
  // Under IS_TEST tfjs's engine counts the copies wasm's Identity makes of the tensors a
  // custom-gradient op saves as leaks (tfjs's own fusedMatMul__op, in a Dense layer, trips
  // it); the training test counts tensors itself.
  isTest = tf.env().getBool('IS_TEST');
  tf.env().set('IS_TEST', false);
});
afterAll(() => {
  tf.env().set('IS_TEST', isTest);
});

/** tf.conv2d NCHW, dilated, on the current backend. */
function conv2dNchw(x: tf.Tensor4D, f: tf.Tensor4D): tf.Tensor {
  return tf.conv2d(x, f, 1, 'same', 'NCHW', [2, 1]);
}

describe('useIm2col on the wasm backend', () => {
  it('switches wasm only when asked: useIm2col() alone leaves its kernels to tfjs', () => {
    const own = tf.getKernel('Conv2D', 'wasm');
    const restore = useIm2col();
    try {
      expect(tf.getKernel('Conv2D', 'wasm')).toBe(own);
      expect(tf.getKernel('Conv2D', 'cpu')?.kernelFunc).not.toBe(own?.kernelFunc);
    } finally {
      restore();
    }
    const restoreWasm = useIm2col({backends: ['wasm']});
    try {
      expect(tf.getKernel('Conv2D', 'wasm')).not.toBe(own);
    } finally {
      restoreWasm();
    }
    expect(tf.getKernel('Conv2D', 'wasm')).toBe(own);
  });

  it('makes tf.conv2d NCHW work on wasm (tfjs alone refuses it), and restores tfjs exactly', () => {
    const rng = new Random(11);
    const x = tf.tensor4d(rng.values(2 * 3 * 9 * 8), [2, 3, 9, 8]);
    const f = tf.tensor4d(rng.values(3 * 2 * 3 * 4), [3, 2, 3, 4]);
    const tfjsConv2d = tf.getKernel('Conv2D', 'wasm');
    const tfjsFused = tf.getKernel('FusedConv2D', 'wasm');
    expect(() => conv2dNchw(x, f)).toThrow(/does not support dataFormat:'channelsFirst'/);
    tf.setBackend('cpu');
    const expected = conv2dNchw(x, f);
    tf.setBackend('wasm');
    resetKernelStats();
    const restore = useIm2col({backends: ['wasm']});
    let actual: tf.Tensor;
    try {
      expect(tf.getKernel('Conv2D', 'wasm')).not.toBe(tfjsConv2d);
      actual = conv2dNchw(x, f);
    } finally {
      restore();
    }
    expect(kernelStats().calls['Conv2D/wasm']).toBe(1);
    expect(actual.shape).toEqual(expected.shape);
    expect(relativeError(actual.dataSync(), expected.dataSync())).toBeLessThan(1e-5);
    expect(tf.getKernel('Conv2D', 'wasm')).toBe(tfjsConv2d);
    expect(tf.getKernel('FusedConv2D', 'wasm')).toBe(tfjsFused);
    expect(() => conv2dNchw(x, f)).toThrow(/does not support dataFormat:'channelsFirst'/);
    tf.dispose([x, f, expected, actual]);
  });

  it('writes an output whose allocation grows the wasm heap (views are taken after it)', () => {
    const heapBytes = () => (tf.backend() as unknown as {wasm: {HEAPU8: Uint8Array}}).wasm.HEAPU8.length;
    const rng = new Random(5);
    const x = tf.tensor4d(rng.values(2 * 300 * 300 * 3), [2, 300, 300, 3]);
    const f = tf.tensor4d(rng.values(3 * 3 * 3 * 2), [3, 3, 3, 2]);
    const b = tf.tensor1d([0.5, -0.25]);
    const before = heapBytes();
    // A 1x1 convolution with enough output channels to need more bytes than the whole heap.
    const channels = Math.ceil(before / (2 * 300 * 300 * 4)) + 1;
    const f1 = tf.tensor4d(rng.values(3 * channels), [1, 1, 3, channels]);
    resetKernelStats();
    const restore = useIm2col({backends: ['wasm']});
    let big: tf.Tensor, fused: tf.Tensor;
    try {
      big = tf.conv2d(x, f1, 1, 'valid');
      fused = tf.fused.conv2d({x, filter: f, strides: 1, pad: 'same', bias: b, activation: 'relu'});
    } finally {
      restore();
    }
    expect(kernelStats().calls).toEqual({'Conv2D/wasm': 1, 'FusedConv2D/wasm': 1});
    expect(heapBytes()).toBeGreaterThan(before);
    tf.setBackend('cpu');
    const expectedBig = tf.conv2d(x, f1, 1, 'valid');
    const expectedFused = tf.relu(tf.add(tf.conv2d(x, f, 1, 'same'), b));
    tf.setBackend('wasm');
    expect(relativeError(big.dataSync(), expectedBig.dataSync())).toBeLessThan(1e-5);
    expect(relativeError(fused.dataSync(), expectedFused.dataSync())).toBeLessThan(1e-5);
    tf.dispose([x, f, b, f1, big, fused, expectedBig, expectedFused]);
  });

  it('trains a tf.layers CNN with a dilated conv layer on wasm: loss falls, tensors stay flat', async () => {
    const tfjsConv2d = tf.getKernel('Conv2D', 'wasm');
    const cnn = () => {
      const seed = (s: number) => tfl.initializers.glorotUniform({seed: s});
      const model = tfl.sequential();
      model.add(tfl.layers.conv2d({inputShape: [10, 10, 2], filters: 4, kernelSize: 3, padding: 'same',
                                   activation: 'relu', dilationRate: 2, kernelInitializer: seed(1)}));
      model.add(tfl.layers.flatten());
      model.add(tfl.layers.dense({units: 2, kernelInitializer: seed(2)}));
      model.compile({optimizer: tf.train.sgd(0.02), loss: 'meanSquaredError'});
      return model;
    };
    const rng = new Random(7);
    const xs = tf.tensor4d(rng.values(16 * 10 * 10 * 2), [16, 10, 10, 2]);
    const ys = tf.tensor2d(rng.values(16 * 2), [16, 2]);
    const plain = cnn();
    await expect(plain.fit(xs, ys, {epochs: 1, batchSize: 8, verbose: 0})).rejects.toThrow(
        /dilation rates greater than 1 are not yet supported/);
    plain.dispose();
    const model = cnn();
    const tensorsAfterEpoch: number[] = [];
    resetKernelStats();
    const restore = useIm2col({backends: ['wasm']});
    let losses: number[];
    try {
      const history = await model.fit(xs, ys, {
        epochs: 6, batchSize: 8, shuffle: false, verbose: 0,
        callbacks: {onEpochEnd: async () => { tensorsAfterEpoch.push(tf.memory().numTensors); }}});
      losses = history.history.loss as number[];
    } finally {
      restore();
    }
    console.log(`wasm, dilated CNN losses under useIm2col: ${losses.map(l => l.toFixed(4))}`);
    expect(tf.getBackend()).toBe('wasm');
    for (let i = 1; i < losses.length; i++) expect(losses[i]).toBeLessThan(losses[i - 1]);
    // The first epoch may create lasting state (optimizer); every later one adds nothing.
    expect(new Set(tensorsAfterEpoch.slice(1)).size).toBe(1);
    // Two batches an epoch: tf.conv2d forward (the stand-in), the filter gradient from Im2col.
    expect(kernelStats().calls).toEqual({'Conv2D/wasm': 12, 'Im2col/wasm': 12});
    expect(tf.getKernel('Conv2D', 'wasm')).toBe(tfjsConv2d);
    tf.dispose([xs, ys]);
    model.dispose();
  });
});

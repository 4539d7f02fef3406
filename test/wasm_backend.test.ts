/**
 * useIm2col on tfjs's wasm backend (single-threaded in Node), which alone refuses NCHW and
 * cannot train conv nets (no Conv2DBackpropFilter): tf.conv2d NCHW against tfjs's cpu
 * conv2d, a tf.layers CNN with Conv2D, dilated, channels-first and causal Conv1D layers
 * trained on wasm (its gradients against the cpu backend's), and exact restoration.
 * The shared bodies (parity, errors, fused, gradients) run on wasm in shared_bodies.test.ts.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import * as tfl from '@tensorflow/tfjs-layers';
import './helpers/tfjs_gradients';
import {kernelStats, resetKernelStats, useIm2col} from '../src';
import {CausalPadding1D} from '../bench/model_zoo';
import {relativeError} from './helpers/conv_cases';
import {Random} from './helpers/random';

beforeAll(async () => {
  // Both initialised: references run on cpu.
  expect(await tf.setBackend('cpu')).toBe(true);
  expect(await tf.setBackend('wasm')).toBe(true);
  expect(tf.env().getBool('IS_TEST')).toBe(true);
});

/** tf.conv2d NCHW, dilated, on the current backend. */
function conv2dNchw(x: tf.Tensor4D, f: tf.Tensor4D): tf.Tensor {
  return tf.conv2d(x, f, 1, 'same', 'NCHW', [2, 1]);
}

describe('useIm2col on the wasm backend', () => {
  it('useIm2col() switches wasm with the other loaded backends; restore puts tfjs back', () => {
    const own = tf.getKernel('Conv2D', 'wasm');
    const restore = useIm2col();
    try {
      expect(tf.getKernel('Conv2D', 'wasm')).not.toBe(own);
      expect(tf.getKernel('Conv2D', 'cpu')?.kernelFunc).not.toBe(own?.kernelFunc);
      expect(tf.getKernel('Conv2DBackpropFilter', 'wasm')).toBeDefined();
    } finally {
      restore();
    }
    expect(tf.getKernel('Conv2D', 'wasm')).toBe(own);
    expect(tf.getKernel('Conv2DBackpropFilter', 'wasm')).toBeUndefined();
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
    // NCHW, which XNNPACK does not take: this package's kernels run it.
    const x = tf.tensor4d(rng.values(2 * 300 * 300 * 3), [2, 3, 300, 300]);
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
      big = tf.conv2d(x, f1, 1, 'valid', 'NCHW');
      fused = tf.fused.conv2d({x, filter: f, strides: 1, pad: 'same', dataFormat: 'NCHW', bias: b,
                               activation: 'relu'});
    } finally {
      restore();
    }
    expect(kernelStats().calls).toEqual({'Conv2D/wasm': 1, 'FusedConv2D/wasm': 1});
    expect(heapBytes()).toBeGreaterThan(before);
    tf.setBackend('cpu');
    const expectedBig = tf.conv2d(x, f1, 1, 'valid', 'NCHW');
    const expectedFused = tf.relu(tf.add(tf.conv2d(x, f, 1, 'same', 'NCHW'), tf.reshape(b, [1, 2, 1, 1])));
    tf.setBackend('wasm');
    expect(relativeError(big.dataSync(), expectedBig.dataSync())).toBeLessThan(1e-5);
    expect(relativeError(fused.dataSync(), expectedFused.dataSync())).toBeLessThan(1e-5);
    tf.dispose([x, f, b, f1, big, fused, expectedBig, expectedFused]);
  });

  it('trains a tf.layers CNN (Conv2D, dilated, channels-first, causal Conv1D) on wasm: loss falls, ' +
     'tensors stay flat', async () => {
    const tfjsConv2d = tf.getKernel('Conv2D', 'wasm');
    const rng = new Random(7);
    const xs = tf.tensor4d(rng.values(16 * 8 * 8 * 2), [16, 8, 8, 2]);
    const ys = tf.tensor2d(rng.values(16 * 2), [16, 2]);
    // tfjs's wasm backend alone cannot train even the undilated model. (Under IS_TEST tfjs's
    // leak check would stop it sooner: wasm's Identity copies the tensors that a Dense
    // layer's custom gradient saves. The switch's Identity shares them.)
    const plain = familyCnn(1);
    tf.env().set('IS_TEST', false);
    try {
      await expect(plain.fit(xs, ys, {epochs: 1, batchSize: 8, verbose: 0})).rejects.toThrow(
          /Kernel 'Conv2DBackpropFilter' not registered for backend 'wasm'/);
    } finally {
      tf.env().set('IS_TEST', true);
    }
    plain.dispose();
    const model = familyCnn(2);
    const tensorsAfterEpoch: number[] = [];
    resetKernelStats();
    const restore = useIm2col();
    let losses: number[];
    try {
      const history = await model.fit(xs, ys, {
        epochs: 6, batchSize: 8, shuffle: false, verbose: 0,
        callbacks: {onEpochEnd: async () => { tensorsAfterEpoch.push(tf.memory().numTensors); }}});
      losses = history.history.loss as number[];
    } finally {
      restore();
    }
    console.log(`wasm, family CNN losses under useIm2col: ${losses.map(l => l.toFixed(4))}; ` +
                `tensors after each epoch: ${tensorsAfterEpoch}`);
    expect(tf.getBackend()).toBe('wasm');
    for (let i = 1; i < losses.length; i++) expect(losses[i]).toBeLessThan(losses[i - 1]);
    expect(new Set(tensorsAfterEpoch).size).toBe(1);
    // Per batch: four convolutions forward (three Conv2D and the Conv1D), NHWC with a
    // per-channel bias, which the stand-ins hand to XNNPACK; their filter gradients from
    // Im2col, the input gradients from Col2im (the first layer needs none).
    const {calls, handedToBackend} = kernelStats();
    expect(Object.values(handedToBackend).reduce((a, b) => a + b, 0)).toBe(12 * 4);
    expect(calls['Im2col/wasm']).toBe(12 * 4);
    expect(calls['Col2im/wasm']).toBe(12 * 3);
    expect(tf.getKernel('Conv2D', 'wasm')).toBe(tfjsConv2d);
    tf.dispose([xs, ys]);
    model.dispose();
  });

  it('gives the tf.layers CNN the cpu backend\'s gradients within 1e-4', async () => {
    const rng = new Random(8);
    const xs = tf.tensor4d(rng.values(4 * 8 * 8 * 2), [4, 8, 8, 2]);
    const ys = tf.tensor2d(rng.values(4 * 2), [4, 2]);
    for (const dilation of [1, 2]) {
      // One model per backend, from the same seeds: no variable moves between backends.
      const wasmModel = familyCnn(dilation);
      const restore = useIm2col();
      let onWasm: tf.Tensor[], onCpu: tf.Tensor[];
      try {
        onWasm = cnnGradients(wasmModel, xs, ys);
        tf.setBackend('cpu');
        // tfjs's own cpu gradients where it has them (no dilations); with dilations tfjs
        // cannot train, and the cpu backend runs the im2col gradients.
        if (dilation === 1) restore();
        const cpuModel = familyCnn(dilation);
        onCpu = cnnGradients(cpuModel, xs, ys);
        cpuModel.dispose();
      } finally {
        restore();
        tf.setBackend('wasm');
      }
      const errors = wasmModel.trainableWeights.map((w, i) =>
          [w.originalName, relativeError(onWasm[i].dataSync(), onCpu[i].dataSync())] as const);
      console.log(`dilation ${dilation}, wasm vs cpu gradients: ` +
                  errors.map(([name, e]) => `${name} ${e.toExponential(1)}`).join(', '));
      expect(errors.length).toBe(10);
      for (const [name, error] of errors) expect({name, ok: error < 1e-4}).toEqual({name, ok: true});
      tf.dispose([...onWasm, ...onCpu]);
      wasmModel.dispose();
    }
    tf.dispose([xs, ys]);
  });
});

/**
 * A small CNN with the convolutions tf.layers users train: Conv2D, a dilated Conv2D, a
 * channels-first Conv2D and a causal (dilated) Conv1D over the image's rows, seeded.
 */
function familyCnn(dilation: number): tfl.LayersModel {
  const seed = (s: number) => tfl.initializers.glorotUniform({seed: s});
  const input = tfl.input({shape: [8, 8, 2]});
  let h = tfl.layers.conv2d({filters: 4, kernelSize: 3, padding: 'same', activation: 'relu',
                             kernelInitializer: seed(1)}).apply(input) as tfl.SymbolicTensor;
  h = tfl.layers.conv2d({filters: 4, kernelSize: 3, padding: 'same', activation: 'relu',
                         dilationRate: dilation, kernelInitializer: seed(2)}).apply(h) as tfl.SymbolicTensor;
  h = tfl.layers.permute({dims: [3, 1, 2]}).apply(h) as tfl.SymbolicTensor;
  h = tfl.layers.conv2d({filters: 4, kernelSize: 3, padding: 'valid', dataFormat: 'channelsFirst',
                         activation: 'relu', kernelInitializer: seed(3)}).apply(h) as tfl.SymbolicTensor;
  h = tfl.layers.permute({dims: [2, 3, 1]}).apply(h) as tfl.SymbolicTensor;
  h = tfl.layers.reshape({targetShape: [6, 24]}).apply(h) as tfl.SymbolicTensor;
  // tf.layers' conv1d refuses padding 'causal' ("not implemented yet"): Keras's causal padding
  // as a layer, then a 'valid' dilated conv.
  h = new CausalPadding1D({padding: dilation * 2}).apply(h) as tfl.SymbolicTensor;
  h = tfl.layers.conv1d({filters: 4, kernelSize: 3, padding: 'valid', dilationRate: dilation,
                         activation: 'relu', kernelInitializer: seed(4)}).apply(h) as tfl.SymbolicTensor;
  h = tfl.layers.flatten().apply(h) as tfl.SymbolicTensor;
  const output = tfl.layers.dense({units: 2, kernelInitializer: seed(5)}).apply(h) as tfl.SymbolicTensor;
  const model = tfl.model({inputs: input, outputs: output});
  model.compile({optimizer: tf.train.sgd(0.02), loss: 'meanSquaredError'});
  return model;
}

/** The gradients of the model's mean squared error by each trainable weight, in order. */
function cnnGradients(model: tfl.LayersModel, xs: tf.Tensor, ys: tf.Tensor): tf.Tensor[] {
  const variables = model.trainableWeights.map(w => w.read() as tf.Variable);
  const {grads, value} = tf.variableGrads(
      () => tf.losses.meanSquaredError(ys, model.predict(xs) as tf.Tensor) as tf.Scalar, variables);
  value.dispose();
  return variables.map(v => grads[v.name]);
}

/**
 * The model benchmark's five architectures (bench/model_zoo.ts, tiny sizes) on tfjs's wasm
 * backend: under useIm2col() they predict what stock tfjs-wasm predicts, and their gradients
 * (which stock tfjs-wasm cannot compute: it has no Conv2DBackpropFilter) agree with tfjs's
 * own cpu gradients; with no tensor left behind. The TCN's dilated convolutions have no tfjs
 * gradient on any backend, so its reference is the cpu backend under the switch.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import * as tfl from '@tensorflow/tfjs-layers';
import './helpers/tfjs_gradients';
import {buildModel, inputShapeOf, MODEL_NAMES, outputShapeOf, seededTensor} from '../bench/model_zoo';
import {kernelStats, resetKernelStats, useIm2col} from '../src';
import {relativeError} from './helpers/conv_cases';

beforeAll(async () => {
  expect(await tf.setBackend('cpu')).toBe(true);
  expect(await tf.setBackend('wasm')).toBe(true);
});

/** The model's output on x (its values). */
function predict(model: tfl.LayersModel, x: tf.Tensor): Float32Array {
  return tf.tidy(() => (model.predict(x) as tf.Tensor).dataSync() as Float32Array);
}

/** Gradients of the mean squared error to `target` by each trainable weight, in order. */
function gradients(model: tfl.LayersModel, x: tf.Tensor, target: tf.Tensor): Float32Array[] {
  const variables = model.trainableWeights.map(w => w.read() as tf.Variable);
  const {grads, value} = tf.variableGrads(() => tf.losses.meanSquaredError(
      target, model.predict(x) as tf.Tensor) as tf.Scalar, variables);
  const values = variables.map(v => grads[v.name].dataSync() as Float32Array);
  tf.dispose([value, ...Object.values(grads)]);
  return values;
}

describe('model zoo (tiny sizes) on the wasm backend under useIm2col', () => {
  it.each(MODEL_NAMES)('%s: predicts as stock tfjs-wasm, has the cpu backend\'s gradients', name => {
    const before = tf.memory().numTensors;
    const model = buildModel(name, 'tiny');
    const x = seededTensor(inputShapeOf(model), 7);
    const target = seededTensor(outputShapeOf(model), 8);
    const stock = predict(model, x);
    resetKernelStats();
    const restore = useIm2col();
    let ours: Float32Array, grads: Float32Array[];
    try {
      ours = predict(model, x);
      grads = gradients(model, x, target);
    } finally {
      restore();
    }
    const {calls} = kernelStats();
    expect(Object.keys(calls).length).toBeGreaterThan(0);
    expect(Object.keys(calls).every(key => key.endsWith('/wasm'))).toBe(true);
    expect(relativeError(ours, stock)).toBeLessThan(1e-4);

    // The reference: the same seeded model on the cpu backend, tfjs's own gradients.
    tf.setBackend('cpu');
    const restoreCpu = name === 'tcn' ? useIm2col({backends: ['cpu']}) : () => {};
    // Its own tensors: a tensor moved between backends inside a kernel trips IS_TEST's check.
    const reference = buildModel(name, 'tiny');
    const [xCpu, targetCpu] = [seededTensor(x.shape, 7), seededTensor(target.shape, 8)];
    let expected: Float32Array[];
    try {
      expected = gradients(reference, xCpu, targetCpu);
    } finally {
      restoreCpu();
      tf.dispose([xCpu, targetCpu]);
      reference.dispose();
      tf.setBackend('wasm');
    }
    expect(grads.length).toBe(expected.length);
    const errors = grads.map((g, i) => relativeError(g, expected[i]));
    const worst = Math.max(...errors);
    console.log(`${name} on wasm: ${grads.length} weight gradients, worst relative error ` +
                `${worst.toExponential(1)} against the cpu backend`);
    expect(worst).toBeLessThan(1e-4);

    tf.dispose([x, target]);
    model.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});

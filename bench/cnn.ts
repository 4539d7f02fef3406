/**
 * The small tf.layers CNN that bench/training.ts and bench/cpu.ts train, and its batch. The
 * initializers are seeded and the batch is a fixed function of its shape, so every build
 * (on any backend) is the same model and every side of a comparison trains the same one.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

export const CNN_DESCRIPTION = 'tf.layers CNN: 16x16x3 input, two 3x3 conv2d (8, 16 filters, ' +
    "'same') + relu, 4x4 max pooling, dense 10; sgd 0.01, meanSquaredError";

/** Values sin(0.37 i + seed) / 2 in `shape`: deterministic and free of any generator. */
export function sineTensor(shape: number[], seed: number): tf.Tensor {
  const size = shape.reduce((a, b) => a * b, 1);
  const data = new Float32Array(size);
  for (let i = 0; i < size; i++) data[i] = Math.sin(i * 0.37 + seed) * 0.5;
  return tf.tensor(data, shape);
}

/** The CNN, compiled, its weights on the current backend; `dilation` for both conv layers. */
export function cnn(dilation = 1): tfl.LayersModel {
  // Seeded initializers draw in JS, so the weights do not depend on the backend.
  const init = (seed: number) =>
      ({kernelInitializer: tfl.initializers.glorotUniform({seed}), biasInitializer: 'zeros'}) as
      const;
  const model = tfl.sequential();
  model.add(tfl.layers.conv2d({...init(1), inputShape: [16, 16, 3], filters: 8, kernelSize: 3,
                               padding: 'same', activation: 'relu', dilationRate: dilation}));
  model.add(tfl.layers.conv2d({...init(2), filters: 16, kernelSize: 3, padding: 'same',
                               activation: 'relu', dilationRate: dilation}));
  model.add(tfl.layers.maxPooling2d({poolSize: 4}));
  model.add(tfl.layers.flatten());
  model.add(tfl.layers.dense({...init(3), units: 10}));
  model.compile({optimizer: tf.train.sgd(0.01), loss: 'meanSquaredError'});
  return model;
}

/** A batch of `size` inputs and labels for the CNN, on the current backend. */
export function cnnBatch(size: number): {x: tf.Tensor, labels: tf.Tensor} {
  return {x: sineTensor([size, 16, 16, 3], 4), labels: sineTensor([size, 10], 5)};
}

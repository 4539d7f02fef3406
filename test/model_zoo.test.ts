/**
 * The model benchmark's zoo (bench/model_zoo.ts) at its tiny sizes on the cpu backend: each
 * of the five architectures builds with the expected output shape, its seeded weights are
 * deterministic (two builds predict the same, bit for bit), and stock tfjs and useIm2col
 * predict the same to float32 rounding. The full sizes run in `npm run bench:models`.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as tfl from '@tensorflow/tfjs-layers';
import {buildModel, c3d, inputShapeOf, mobileNetV2, MODEL_NAMES, ModelName, resNet50, seededTensor, tcn, uNet}
  from '../bench/model_zoo';
import {kernelStats, resetKernelStats, useIm2col} from '../src';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const TINY_OUTPUT: Record<ModelName, number[]> = {
  mobilenetv2: [1, 10],
  resnet50: [1, 10],
  unet: [1, 32, 32, 1],
  c3d: [1, 5],
  tcn: [1, 64, 4],
};

function predict(model: tfl.LayersModel, seed = 7): Float32Array {
  const x = seededTensor(inputShapeOf(model), seed);
  const y = model.predict(x) as tf.Tensor;
  const values = y.dataSync() as Float32Array;
  tf.dispose([x, y]);
  return values;
}

describe('model zoo (tiny sizes, cpu)', () => {
  it.each(MODEL_NAMES)('%s: output shape, deterministic weights, stock = useIm2col', name => {
    const before = tf.memory().numTensors;
    const model = buildModel(name, 'tiny');
    const again = buildModel(name, 'tiny');
    expect(model.outputs[0].shape).toEqual([null, ...TINY_OUTPUT[name].slice(1)]);

    const stock = predict(model);
    expect(stock.length).toBe(TINY_OUTPUT[name].reduce((a, b) => a * b, 1));
    expect(stock.every(Number.isFinite)).toBe(true);
    expect(Math.max(...stock.map(Math.abs))).toBeGreaterThan(1e-3);  // not a dead network
    expect(predict(again)).toEqual(stock);
    expect(predict(model, 8)).not.toEqual(stock);

    resetKernelStats();
    const restore = useIm2col({backends: ['cpu']});
    let ours: Float32Array;
    try {
      ours = predict(model);
    } finally {
      restore();
    }
    if (name !== 'c3d') {
      // Conv2D / FusedConv2D, which useIm2col switches, ran on im2col (C3D has only Conv3D).
      expect(Object.keys(kernelStats().calls).length).toBeGreaterThan(0);
    }
    const scale = Math.max(...stock.map(Math.abs));
    const maxDiff = Math.max(...stock.map((v, i) => Math.abs(v - ours[i])));
    expect(maxDiff / scale).toBeLessThan(1e-4);

    model.dispose();
    again.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('the full-size builders give the published architectures', () => {
    // Parameter counts of Keras's MobileNetV2 (alpha 1.0, 224) and ResNet50 with their
    // 1000-class heads (not seeded here: only the layers are checked).
    const counts: [() => tfl.LayersModel, number][] = [
      [() => mobileNetV2(), 3538984],
      [() => resNet50(), 25636712],
    ];
    for (const [build, params] of counts) {
      const model = build();
      expect(model.countParams()).toBe(params);
      model.dispose();
    }
    const shapes: [() => tfl.LayersModel, (number | null)[], (number | null)[]][] = [
      [() => uNet(), [null, 256, 256, 3], [null, 256, 256, 1]],
      [() => c3d(), [null, 16, 112, 112, 3], [null, 101]],
      [() => tcn(), [null, 1024, 16], [null, 1024, 16]],
    ];
    for (const [build, input, output] of shapes) {
      const model = build();
      expect(model.inputs[0].shape).toEqual(input);
      expect(model.outputs[0].shape).toEqual(output);
      model.dispose();
    }
  });
});

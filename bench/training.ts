/**
 * `node scripts/run-ts.js bench/training.ts`: a fused conv layer, conv gradients and a
 * small CNN's predict and training step on tfjs's cpu backend (the whole-model benchmark is
 * bench/models.ts), each pair measured round-robin in this one process after warm-up
 * (medians, ms):
 *  - a fused conv layer (3x3x64x64 on 56x56, bias + relu): tf.fused.conv2d vs
 *    fusedIm2colConv2d;
 *  - input + filter gradients of a 3x3x32x32 conv on 28x28: tf.grads of tf.conv2d vs of
 *    im2colConv2d (tfjs's cpu backprop kernels are slow: the smaller layer keeps this short);
 *  - a small tf.layers CNN (bench/cnn.ts: two 3x3 conv2d + relu, pooling, dense; seeded
 *    weights): predict and one training step, without and with useIm2col (bench/cpu.ts
 *    times the training step on the wasm backend too);
 *  - a training step of the same CNN with dilated conv layers under useIm2col (tfjs alone
 *    cannot train it).
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '../test/helpers/tfjs_gradients';
import {fusedIm2colConv2d, im2colConv2d, useIm2col} from '../src';
import {cnn, cnnBatch, sineTensor as values} from './cnn';

const ROUNDS = Number(process.argv.find(a => a.startsWith('--rounds='))?.split('=')[1] ?? 5);

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

/** Runs each side once per round (after one warm-up), alternating; returns medians. */
async function compare(sides: Record<string, () => Promise<void> | void>):
    Promise<Record<string, number>> {
  const times: Record<string, number[]> = {};
  for (const [name, run] of Object.entries(sides)) {
    await run();
    times[name] = [];
  }
  for (let round = 0; round < ROUNDS; round++) {
    for (const [name, run] of Object.entries(sides)) {
      const start = performance.now();
      await run();
      times[name].push(performance.now() - start);
    }
  }
  return Object.fromEntries(Object.entries(times).map(([name, t]) => [name, median(t)]));
}

function row(what: string, times: Record<string, number>): void {
  const [[aName, a], [bName, b]] = Object.entries(times);
  console.log(`${what.padEnd(44)} ${aName} ${a.toFixed(1).padStart(8)} ms   ${bName} ` +
      `${b.toFixed(1).padStart(8)} ms   ratio ${(a / b).toFixed(2)}`);
}

async function main(): Promise<void> {
  await tf.setBackend('cpu');
  const x = values([1, 56, 56, 64], 1) as tf.Tensor4D;
  const filter = values([3, 3, 64, 64], 2) as tf.Tensor4D;
  const bias = values([64], 3);
  const dispose = (t: tf.Tensor | tf.Tensor[]) => tf.dispose(t);
  row('fused conv 56x56x64, 3x3x64x64, bias+relu', await compare({
    tfjs: () => dispose(tf.fused.conv2d({x, filter, strides: 1, pad: 'same', bias, activation: 'relu'})),
    im2col: () => dispose(fusedIm2colConv2d({x, filter, strides: 1, pad: 'same', bias, activation: 'relu'})),
  }));
  const loss = (conv: (a: tf.Tensor, b: tf.Tensor) => tf.Tensor) =>
      tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(conv(a, b)));
  const gx = values([1, 28, 28, 32], 6) as tf.Tensor4D;
  const gFilter = values([3, 3, 32, 32], 7) as tf.Tensor4D;
  const tfGrads = loss((a, b) => tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 1, 'same'));
  const ourGrads = loss((a, b) => im2colConv2d(a as tf.Tensor4D, b as tf.Tensor4D, 1, 'same'));
  row('conv 28x28x32 gradients (dx, dFilter)', await compare({
    tfjs: () => dispose(tfGrads([gx, gFilter])),
    im2col: () => dispose(ourGrads([gx, gFilter])),
  }));

  const model = cnn(1);
  const {x: batch, labels} = cnnBatch(4);
  const switched = (run: () => Promise<void> | void) => async () => {
    const restore = useIm2col();
    try {
      await run();
    } finally {
      restore();
    }
  };
  const predict = () => dispose(model.predict(batch) as tf.Tensor);
  row('CNN predict, batch 4 of 16x16x3', await compare({
    tfjs: predict, useIm2col: switched(predict),
  }));
  const step = async () => {
    await model.trainOnBatch(batch, labels);
  };
  row('CNN training step, batch 4', await compare({
    tfjs: step, useIm2col: switched(step),
  }));
  const dilated = cnn(2);
  const dilatedStep = switched(async () => {
    await dilated.trainOnBatch(batch, labels);
  });
  const times = await compare({dilated: dilatedStep, plain: switched(step)});
  console.log(`${'dilated CNN training step (useIm2col only)'.padEnd(44)} ` +
      `${times.dilated.toFixed(1).padStart(8)} ms   (undilated under useIm2col ` +
      `${times.plain.toFixed(1)} ms)`);
}

main().catch(error => {
  console.error(error);
  process.exit(1);
});

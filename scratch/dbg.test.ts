import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import {kernelStats, useIm2col} from '../src';
import {state} from '../src/state';
test('dbg', async () => {
  await tf.setBackend('wasm');
  const restore = useIm2col();
  console.log(state.switched.get('wasm'));
  const x = tf.ones([1, 4, 4, 2]) as tf.Tensor4D, f = tf.ones([2, 2, 2, 1]) as tf.Tensor4D;
  tf.depthwiseConv2d(x, f, 1, 'valid').print();
  console.log(kernelStats());
  restore();
});

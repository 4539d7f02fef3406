/**
 * useIm2col over the convolution family: which tfjs kernels it swaps on each backend (the
 * driver's list, or the `kernels` option), that a kernel a backend lacks is added and then
 * removed, that restore brings back the very same kernel objects, and that a bad `kernels`
 * value is refused by name with nothing changed.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import './helpers/tfjs_gradients';
import {kernelStats, resetKernelStats, useIm2col} from '../src';

const FAMILY = ['Conv2D', 'FusedConv2D', 'DepthwiseConv2dNative', 'FusedDepthwiseConv2D',
                'Conv2DBackpropInput', 'DepthwiseConv2dNativeBackpropInput', 'Conv3D',
                'Conv3DBackpropInputV2', 'Conv2DBackpropFilter', 'DepthwiseConv2dNativeBackpropFilter'];
/** The kernels tfjs 4.22's wasm backend lacks, which useIm2col adds there. */
const WASM_LACKS = ['DepthwiseConv2dNativeBackpropInput', 'Conv2DBackpropFilter',
                    'DepthwiseConv2dNativeBackpropFilter'];

function kernelsOf(backend: string): Record<string, unknown> {
  return Object.fromEntries(FAMILY.map(name => [name, tf.getKernel(name, backend)]));
}

beforeAll(async () => {
  tf.env().set('IS_TEST', true);
  await tf.setBackend('wasm');
  await tf.setBackend('cpu');
});

it('swaps every family kernel on cpu by default, and restore brings back the same objects', () => {
  const before = kernelsOf('cpu');
  const restore = useIm2col({backends: ['cpu']});
  const during = kernelsOf('cpu');
  for (const name of FAMILY) expect({name, same: during[name] === before[name]}).toEqual({name, same: false});
  restore();
  const after = kernelsOf('cpu');
  for (const name of FAMILY) expect({name, same: after[name] === before[name]}).toEqual({name, same: true});
});

it('on wasm swaps the family and Identity, adds the kernels wasm lacks, and removes them on restore', async () => {
  await tf.setBackend('wasm');
  try {
    const before = kernelsOf('wasm');
    const identity = tf.getKernel('Identity', 'wasm');
    expect(WASM_LACKS.filter(name => before[name] != null)).toEqual([]);
    let restore = useIm2col();
    const during = kernelsOf('wasm');
    expect(tf.getKernel('Identity', 'wasm')).not.toBe(identity);
    restore();
    expect(FAMILY.filter(name => during[name] === before[name])).toEqual([]);
    expect(tf.getKernel('Identity', 'wasm')).toBe(identity);

    restore = useIm2col({backends: ['wasm'], kernels: ['Conv2D']});
    try {
      expect(FAMILY.filter(name => kernelsOf('wasm')[name] !== before[name])).toEqual(['Conv2D']);
      // Identity shares memory whatever the kernels option: a clone is the same data.
      const x = tf.tensor1d([1, 2, 3]);
      const buffers = tf.memory().numDataBuffers;
      const y = tf.clone(x);
      expect(tf.memory().numDataBuffers).toBe(buffers);
      x.dispose();
      expect(Array.from(y.dataSync())).toEqual([1, 2, 3]);
      y.dispose();
    } finally {
      restore();
    }

    restore = useIm2col({backends: ['wasm']});
    try {
      // tf.depthwiseConv2d's gradients need DepthwiseConv2dNativeBackpropInput and -Filter:
      // wasm alone has neither.
      const x = tf.randomUniform([1, 6, 6, 3], -1, 1, 'float32', 1);
      const f = tf.randomUniform([3, 3, 3, 2], -1, 1, 'float32', 2);
      const loss = (a: tf.Tensor, b: tf.Tensor) =>
          tf.sum(tf.depthwiseConv2d(a as tf.Tensor4D, b as tf.Tensor4D, 1, 'same'));
      resetKernelStats();
      const [dx, df] = tf.grads(loss)([x, f]);
      expect(kernelStats().calls).toEqual({'DepthwiseConv2dNativeBackpropInput/wasm': 1,
                                           'DepthwiseConv2dNativeBackpropFilter/wasm': 1});
      // The forward ran on XNNPACK: it accepts this NHWC call, and runs it faster.
      expect(kernelStats().handedToBackend).toEqual({'DepthwiseConv2dNative/wasm': 1});
      await tf.setBackend('cpu');
      restore();
      const [ex, ef] = tf.grads(loss)([x, f]);
      expect(tf.max(tf.abs(tf.sub(dx, ex))).dataSync()[0]).toBeLessThan(1e-5);
      expect(tf.max(tf.abs(tf.sub(df, ef))).dataSync()[0]).toBeLessThan(1e-5);
      tf.dispose([x, f, dx, df, ex, ef]);
    } finally {
      restore();
    }
    const after = kernelsOf('wasm');
    for (const name of FAMILY) expect({name, same: after[name] === before[name]}).toEqual({name, same: true});
    expect(tf.getKernel('Identity', 'wasm')).toBe(identity);
  } finally {
    await tf.setBackend('cpu');
  }
});

it('refuses a kernels option that is not a list of family kernels, changing nothing', () => {
  const before = kernelsOf('cpu');
  for (const bad of [['Conv2D', 'MatMul'], 'Conv2D', [null]]) {
    expect(() => useIm2col({backends: ['cpu'], kernels: bad as never}))
        .toThrow(/^useIm2col: option 'kernels' must be an array of 'Conv2D', [^]*but got /);
  }
  const after = kernelsOf('cpu');
  for (const name of FAMILY) expect({name, same: after[name] === before[name]}).toEqual({name, same: true});
});

it('counts each switched kernel under its tfjs name', () => {
  const restore = useIm2col({backends: ['cpu'], kernels: ['DepthwiseConv2dNative', 'Conv3D']});
  try {
    resetKernelStats();
    const x = tf.ones([1, 5, 5, 2]) as tf.Tensor4D;
    tf.dispose([tf.depthwiseConv2d(x, tf.ones([3, 3, 2, 1]) as tf.Tensor4D, 1, 'same'),
                tf.conv2d(x, tf.ones([3, 3, 2, 1]) as tf.Tensor4D, 1, 'same'),
                tf.conv3d(tf.ones([1, 3, 3, 3, 1]) as tf.Tensor5D, tf.ones([2, 2, 2, 1, 1]) as tf.Tensor5D, 1, 'same')]);
    expect(kernelStats().calls).toEqual({'DepthwiseConv2dNative/cpu': 1, 'Conv3D/cpu': 1});
  } finally {
    restore();
  }
});

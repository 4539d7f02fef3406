/**
 * The built package (npm test builds it first) loads by its own name through package.json
 * `exports`, with `require` and with `import`, and computes Example 1 of the article.
 */
import {execFileSync} from 'child_process';
import {existsSync} from 'fs';
import * as path from 'path';

const root = path.join(__dirname, '..');

beforeAll(() => {
  if (!existsSync(path.join(root, 'dist', 'index.cjs'))) {
    throw new Error('dist/ is missing: run `npm run build` first (`npm test` does).');
  }
});
const body = (load: string) => `
  ${load}
  tf.env().set('IS_TEST', true);
  tf.setBackend('cpu').then(() => {
    const x = tf.tensor4d(Array.from({length: 16}, (_, i) => i + 1), [1, 4, 4, 1]);
    const y = pkg.im2colConv2d(x, tf.tensor4d([1, 2, 3, 4], [2, 2, 1, 1]), 1, 'valid');
    console.log(JSON.stringify(Array.from(y.dataSync())));
  });`;

function run(args: string[]): number[] {
  return JSON.parse(execFileSync(process.execPath, args, {cwd: root, encoding: 'utf8'}).trim());
}

const example1 = [44, 54, 64, 84, 94, 104, 124, 134, 144];

/** The kernels an entry registers for its backend (names matching /Im2col|Col2im/, sorted). */
/** The package's own kernels on cpu and wasm (webgl has all but the tiled 3D filter gradient). */
const IM2COL_KERNELS = ['Col2im', 'FusedIm2colConv2D', 'FusedIm2colDepthwiseConv2D', 'Im2col',
                        'Im2colConv1D', 'Im2colConv2D', 'Im2colConv2DBackpropInput', 'Im2colConv3D',
                        'Im2colConv3DBackpropFilter', 'Im2colConv3DBackpropInput',
                        'Im2colDepthwiseConv2D'];

describe('the built package', () => {
  it('works with require()', () => {
    expect(run(['-e', body(`const tf = require('@tensorflow/tfjs-core');
      require('@tensorflow/tfjs-backend-cpu'); const pkg = require('tfjs-im2col');`)])).toEqual(example1);
  });

  it('works with import', () => {
    expect(run(['--input-type=module', '-e', body(`import * as tf from '@tensorflow/tfjs-core';
      import '@tensorflow/tfjs-backend-cpu'; import * as pkg from 'tfjs-im2col';`)])).toEqual(example1);
  });
});

describe('several copies in one process', () => {
  /**
   * Loads `loads` (statements binding `a` and `b` to two copies of the package), runs one
   * conv through each and reports the warnings tfjs and the package printed, and what each
   * copy's kernelStats() saw.
   */
  const twoCopies = (moduleType: boolean, loads: string) => {
    const script = `
      const warnings = [];
      const warn = console.warn;
      console.warn = (...args) => { warnings.push(args.join(' ')); };
      ${loads}
      console.warn = warn;
      tf.env().set('IS_TEST', true);
      tf.setBackend('cpu').then(() => {
        const x = tf.tensor4d(Array.from({length: 16}, (_, i) => i + 1), [1, 4, 4, 1]);
        const w = tf.tensor4d([1, 2, 3, 4], [2, 2, 1, 1]);
        a.resetKernelStats();
        const ya = a.im2colConv2d(x, w, 1, 'valid');
        const yb = b.im2colConv2d(x, w, 1, 'valid');
        const restore = b.useIm2col({backends: ['cpu']});
        const yc = tf.conv2d(x, w, 1, 'valid');
        restore();
        console.log(JSON.stringify({
          warnings, a: a.kernelStats().calls, b: b.kernelStats().calls,
          values: [ya, yb, yc].map(y => Array.from(y.dataSync())),
          sameState: a.kernelStats().calls === b.kernelStats().calls
        }));
      });`;
    const args = moduleType ? ['--input-type=module', '-e', script] : ['-e', script];
    return JSON.parse(execFileSync(process.execPath, args, {cwd: root, encoding: 'utf8'}).trim());
  };

  it('the ESM and CJS builds register once and share their counters', () => {
    const result = twoCopies(true, `
      import * as tf from '@tensorflow/tfjs-core';
      import '@tensorflow/tfjs-backend-cpu';
      import {createRequire} from 'module';
      const a = await import('tfjs-im2col');
      const b = createRequire(process.cwd() + '/')('tfjs-im2col');`);
    expect(result.warnings).toEqual([]);
    expect(result.values).toEqual([example1, example1, example1]);
    // Two ops and one stand-in call, counted in one place whichever copy made them.
    const expected = {'Im2colConv2D/cpu': 2, 'Conv2D/cpu': 1};
    expect(result.a).toEqual(expected);
    expect(result.b).toEqual(expected);
  });

  it('the subpath entries load beside the main one', () => {
    const result = twoCopies(false, `
      const tf = require('@tensorflow/tfjs-core');
      require('@tensorflow/tfjs-backend-cpu');
      const a = require('tfjs-im2col/cpu');
      require('tfjs-im2col/webgl');
      require('tfjs-im2col/wasm');
      require('tfjs-im2col/layers');
      const b = require('tfjs-im2col');`);
    expect(result.warnings).toEqual([]);
    expect(result.values).toEqual([example1, example1, example1]);
    expect(result.a).toEqual({'Im2colConv2D/cpu': 2, 'Conv2D/cpu': 1});
  });

  it('tfjs-im2col/cpu registers the cpu kernels only', () => {
    const registered = JSON.parse(execFileSync(process.execPath, ['-e', `
      const tf = require('@tensorflow/tfjs-core');
      require('tfjs-im2col/cpu');
      const names = backend => tf.getKernelsForBackend(backend).map(k => k.kernelName)
          .filter(n => /Im2col|Col2im/.test(n)).sort();
      console.log(JSON.stringify({cpu: names('cpu'), webgl: names('webgl')}));`],
      {cwd: root, encoding: 'utf8'}).trim());
    expect(registered).toEqual({
      cpu: IM2COL_KERNELS, webgl: []
    });
  });

  it('tfjs-im2col/wasm registers the wasm kernels only, without loading the wasm backend', () => {
    const registered = JSON.parse(execFileSync(process.execPath, ['-e', `
      const tf = require('@tensorflow/tfjs-core');
      require('tfjs-im2col/wasm');
      const names = backend => tf.getKernelsForBackend(backend).map(k => k.kernelName)
          .filter(n => /Im2col|Col2im/.test(n)).sort();
      const loaded = Object.keys(require.cache).some(f => f.includes('tfjs-backend-wasm'));
      console.log(JSON.stringify({cpu: names('cpu'), wasm: names('wasm'), loaded}));`],
      {cwd: root, encoding: 'utf8'}).trim());
    expect(registered).toEqual({
      cpu: [], wasm: IM2COL_KERNELS,
      loaded: false
    });
  });
});

describe('tfjs-im2col/layers', () => {
  /**
   * Loads `load` (statements binding `tf`, `tfl` and `pkg`, the layers entry), registers the
   * grouped layers and loads a Keras model with Conv2D(groups=2) from memory; reports the
   * layer's class and kernel shape and the largest difference from per-group tf.conv2d.
   */
  const groupedModel = (moduleType: boolean, load: string) => {
    const script = `
      ${load}
      tf.env().set('IS_TEST', true);
      tf.setBackend('cpu').then(async () => {
        const restore = pkg.registerIm2colLayers();
        const modelTopology = {class_name: 'Sequential', config: {name: 'net', layers: [
          {class_name: 'InputLayer', config: {batch_input_shape: [null, 5, 5, 4], dtype: 'float32', name: 'in'}},
          {class_name: 'Conv2D', config: {name: 'conv', filters: 6, kernel_size: [3, 3], padding: 'same',
                                          groups: 2, activation: 'linear', use_bias: false}}]}};
        const kernel = tf.randomNormal([3, 3, 2, 6]);
        const weightSpecs = [{name: 'conv/kernel', shape: [3, 3, 2, 6], dtype: 'float32'}];
        const weightData = kernel.dataSync().slice().buffer;
        const model = await tfl.loadLayersModel(tf.io.fromMemory({modelTopology, weightSpecs, weightData}));
        restore();
        const x = tf.randomNormal([2, 5, 5, 4]);
        const half = (t, axis, g) => tf.split(t, 2, axis)[g];
        const expected = tf.concat([0, 1].map(g => tf.conv2d(half(x, 3, g), half(kernel, 3, g), 1, 'same')), 3);
        const layer = model.getLayer('conv');
        console.log(JSON.stringify({
          grouped: layer instanceof pkg.GroupedConv2D, kernel: layer.getWeights()[0].shape,
          error: tf.max(tf.abs(tf.sub(model.predict(x), expected))).dataSync()[0]
        }));
      });`;
    const args = moduleType ? ['--input-type=module', '-e', script] : ['-e', script];
    return JSON.parse(execFileSync(process.execPath, args, {cwd: root, encoding: 'utf8'}).trim());
  };

  it.each([
    ['require', false, `const tf = require('@tensorflow/tfjs-core'); require('@tensorflow/tfjs-backend-cpu');
       const tfl = require('@tensorflow/tfjs-layers'); const pkg = require('tfjs-im2col/layers');`],
    ['import', true, `import * as tf from '@tensorflow/tfjs-core'; import '@tensorflow/tfjs-backend-cpu';
       import * as tfl from '@tensorflow/tfjs-layers'; import * as pkg from 'tfjs-im2col/layers';`],
  ])('loads a Keras model with Conv2D(groups=2) (%s)', (_, moduleType, load) => {
    const result = groupedModel(moduleType as boolean, load as string);
    expect(result).toEqual({grouped: true, kernel: [3, 3, 2, 6], error: expect.any(Number)});
    expect(result.error).toBeLessThan(1e-4);
  });

  it('the other entries never load @tensorflow/tfjs-layers', () => {
    const loaded = JSON.parse(execFileSync(process.execPath, ['-e', `
      require('@tensorflow/tfjs-core');
      for (const entry of ['tfjs-im2col', 'tfjs-im2col/cpu', 'tfjs-im2col/webgl', 'tfjs-im2col/wasm']) {
        require(entry);
      }
      console.log(JSON.stringify(Object.keys(require.cache).filter(f => f.includes('tfjs-layers'))));`],
      {cwd: root, encoding: 'utf8'}).trim());
    expect(loaded).toEqual([]);
  });

  it('the ESM and CJS builds both extend tfjs-layers\' own classes, whichever registered first', () => {
    const result = JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', `
      import '@tensorflow/tfjs-core';
      import {createRequire} from 'module';
      const esm = await import('tfjs-im2col/layers');
      esm.registerIm2colLayers();
      const cjs = createRequire(process.cwd() + '/')('tfjs-im2col/layers');
      const base = cls => Object.getPrototypeOf(cls);
      console.log(JSON.stringify({
        sameBase: base(esm.GroupedConv2D) === base(cjs.GroupedConv2D) &&
                  base(esm.GroupedConv1D) === base(cjs.GroupedConv1D),
        baseIsTfjs: base(cjs.GroupedConv2D).name === 'Conv2D' && base(cjs.GroupedConv2D) !== esm.GroupedConv2D
      }));`], {cwd: root, encoding: 'utf8'}).trim());
    expect(result).toEqual({sameBase: true, baseIsTfjs: true});
  });
});

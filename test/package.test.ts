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
      cpu: ['Col2im', 'FusedIm2colConv2D', 'Im2col', 'Im2colConv1D', 'Im2colConv2D'], webgl: []
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
      cpu: [], wasm: ['Col2im', 'FusedIm2colConv2D', 'Im2col', 'Im2colConv1D', 'Im2colConv2D'],
      loaded: false
    });
  });
});

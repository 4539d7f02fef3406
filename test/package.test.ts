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

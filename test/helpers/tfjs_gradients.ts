/**
 * Registers tfjs-core's own gradients, as `@tensorflow/tfjs` does on import (this project
 * depends on tfjs-core alone, whose Node bundle leaves them out and whose
 * `dist/register_all_gradients.js` is ESM). It is bundled to CJS with esbuild and run in the
 * test's context; tfjs keeps its engine and registries global, so this copy registers into
 * the same ones the test uses.
 */
import {buildSync} from 'esbuild';

const bundle = buildSync({
  entryPoints: [require.resolve('@tensorflow/tfjs-core/dist/register_all_gradients.js')],
  bundle: true, format: 'cjs', platform: 'node', write: false, logLevel: 'silent',
  external: ['node-fetch']
});
const bundled = {exports: {}};
new Function('module', 'exports', 'require', bundle.outputFiles[0].text)(bundled, bundled.exports,
                                                                         require);

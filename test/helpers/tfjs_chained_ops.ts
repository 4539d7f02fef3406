/**
 * Registers tfjs-core's chained ops (`x.mul(y)`, `x.depthwiseConv2d(...)`), as
 * `@tensorflow/tfjs` and tfjs-core's own test setup do on import; tfjs-core's Node bundle
 * leaves them out and `dist/public/chained_ops/register_all_chained_ops.js` is ESM. Bundled to
 * CJS and run in the test's context like ./tfjs_gradients: the ops land on tfjs's global
 * Tensor class and run through its global engine.
 */
import {buildSync} from 'esbuild';

const bundle = buildSync({
  entryPoints: [require.resolve(
      '@tensorflow/tfjs-core/dist/public/chained_ops/register_all_chained_ops.js')],
  bundle: true, format: 'cjs', platform: 'node', write: false, logLevel: 'silent',
  external: ['node-fetch']
});
const bundled = {exports: {}};
new Function('module', 'exports', 'require', bundle.outputFiles[0].text)(bundled, bundled.exports,
                                                                         require);

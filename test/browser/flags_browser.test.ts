/**
 * The flag values of test/flags.test.ts in headless Chromium, on the cpu (both GEMMs) and
 * webgl backends: each value of IM2COL_WORKSPACE_BYTES either gives tf.conv2d's result
 * (tfjs's own kernel) or is refused with an error naming the flag; no tensors leak.
 */
import {TfjsPage} from './tfjs_page';

let page: TfjsPage;

beforeAll(async () => {
  page = await TfjsPage.open();
}, 60000);

afterAll(async () => {
  await page?.close();
});

/** JSON cannot carry NaN, the infinities or 2^40 exactly as numbers: names for them. */
const VALUES = ['0', '-1', 'NaN', 'Infinity', '-Infinity', '2 ** 40', 'Number.MAX_VALUE', '0.5',
  '1000.5', '1', '4096', "'abc'", "'1000'", 'true', 'null'];

const accepted = new Set(['Infinity', '2 ** 40', 'Number.MAX_VALUE', '1', '4096']);

describe.each([['cpu', 'wasm'], ['cpu', 'typescript'], ['webgl', 'auto']])(
    '%s backend (IM2COL_CPU_GEMM %s)', (backend, gemm) => {
  beforeAll(async () => {
    await page.useBackend(backend as 'cpu' | 'webgl');
  }, 60000);

  it('every IM2COL_WORKSPACE_BYTES value works or is refused', async () => {
    const outcomes = await page.run(({tf, lib}, {values, gemmName}) => {
      const results: Record<string, string> = {};
      const reference = (run: () => any) => { // eslint-disable-line @typescript-eslint/no-explicit-any
        tf.env().set(lib.WORKSPACE_BYTES_FLAG, 64 * 2 ** 20);
        return Array.from(run().dataSync() as Float32Array);
      };
      const sin = (n: number, seed: number) =>
          Float32Array.from({length: n}, (_, i) => Math.sin(i * 0.73 + seed));
      const x = tf.tensor4d(sin(2 * 9 * 8 * 3, 1), [2, 9, 8, 3]);
      const filter = tf.tensor4d(sin(3 * 2 * 3 * 5, 2), [3, 2, 3, 5]);
      const x1 = tf.tensor3d(sin(2 * 11 * 3, 3), [2, 11, 3]);
      const filter1 = tf.tensor3d(sin(3 * 3 * 4, 4), [3, 3, 4]);
      const bias = tf.tensor1d(sin(5, 5));
      const cases: [string, () => any, () => any][] = [ // eslint-disable-line @typescript-eslint/no-explicit-any
        ['conv2d', () => lib.im2colConv2d(x, filter, [2, 1], 'same'),
         () => tf.conv2d(x, filter, [2, 1], 'same')],
        ['conv1d', () => lib.im2colConv1d(x1, filter1, 1, 'same'),
         () => tf.conv1d(x1, filter1, 1, 'same')],
        ['fused', () => lib.fusedIm2colConv2d({x, filter, strides: 1, pad: 'same', bias,
                                               activation: 'relu'}),
         () => tf.fused.conv2d({x, filter, strides: 1, pad: 'same', bias, activation: 'relu'})],
      ];
      tf.env().set(lib.CPU_GEMM_FLAG, gemmName);
      for (const [name, ours, theirs] of cases) {
        const expected = reference(theirs);
        for (const text of values) {
          const value = new Function(`return ${text};`)();
          tf.env().set(lib.WORKSPACE_BYTES_FLAG, value);
          const before = tf.memory().numTensors;
          let outcome: string;
          try {
            const actual = tf.tidy(() => Array.from(ours().dataSync() as Float32Array));
            let worst = actual.length === expected.length ? 0 : Infinity;
            for (let i = 0; i < expected.length; i++) {
              const error = Math.abs(actual[i] - expected[i]);
              worst = Number.isNaN(error) ? Infinity : Math.max(worst, error);
            }
            outcome = worst < 1e-3 ? 'worked' : `wrong by ${worst}`;
          } catch (error) {
            const message = String((error as Error).message);
            outcome = message.includes(lib.WORKSPACE_BYTES_FLAG) ? 'refused' : `threw ${message}`;
          }
          if (tf.memory().numTensors !== before) outcome += ' (leaked tensors)';
          results[`${name} ${text}`] = outcome;
        }
      }
      tf.env().set(lib.WORKSPACE_BYTES_FLAG, 64 * 2 ** 20);
      tf.env().set(lib.CPU_GEMM_FLAG, 'auto');
      tf.dispose([x, filter, x1, filter1, bias]);
      return results;
    }, {values: VALUES, gemmName: gemm});
    const expected: Record<string, string> = {};
    for (const name of ['conv2d', 'conv1d', 'fused']) {
      for (const value of VALUES) {
        // webgl cuts work into chunks of whole patch texels: a 1-byte budget fits none, and
        // planOutputChunks refuses it naming the flag (the cpu's tiles go down to one row).
        const works = accepted.has(value) && !(backend === 'webgl' && value === '1');
        expected[`${name} ${value}`] = works ? 'worked' : 'refused';
      }
    }
    expect(outcomes).toEqual(expected);
  }, 120000);
});

/**
 * The CPU GEMM paths in real headless Chromium, on the page's main thread: WebAssembly SIMD
 * is found and picked under 'auto' (the module compiles synchronously there), and both
 * paths match tf.conv2d.
 */
import {TfjsPage} from './tfjs_page';

let page: TfjsPage;

beforeAll(async () => {
  page = await TfjsPage.open({gemm: './src/cpu/gemm/index.ts'});
  await page.useBackend('cpu');
}, 60000);

afterAll(async () => {
  await page?.close();
});

it('auto picks the wasm GEMM on the main thread', async () => {
  const picked = await page.run(({tf, lib, gemm}) => ({
    available: gemm.availableCpuGemms(), flag: tf.env().get(lib.CPU_GEMM_FLAG), name: gemm.cpuGemm().name
  }));
  expect(picked).toEqual({available: ['wasm', 'typescript'], flag: 'auto', name: 'wasm'});
});

it.each(['wasm', 'typescript'])('the %s path matches tf.conv2d (NHWC and NCHW)', async name => {
  const worst = await page.run(({tf, lib}, gemmName: string) => {
    tf.env().set(lib.CPU_GEMM_FLAG, gemmName);
    const values = (n: number, seed: number) =>
        Float32Array.from({length: n}, (_, i) => Math.sin(i * 0.73 + seed));
    const x = tf.tensor4d(values(2 * 13 * 10 * 6, 1), [2, 13, 10, 6]);
    const filter = tf.tensor4d(values(3 * 3 * 6 * 11, 2), [3, 3, 6, 11]);
    const expected = tf.conv2d(x, filter, [2, 1], 'same');
    const nhwc = lib.im2colConv2d(x, filter, [2, 1], 'same');
    const nchw = lib.im2colConv2d(tf.transpose(x, [0, 3, 1, 2]), filter, [2, 1], 'same', 'NCHW');
    const reference = expected.dataSync();
    const transposed = tf.transpose(expected, [0, 3, 1, 2]).dataSync();
    const a = nhwc.dataSync(), b = nchw.dataSync();
    let max = 0;
    for (let i = 0; i < reference.length; i++) {
      max = Math.max(max, Math.abs(a[i] - reference[i]), Math.abs(b[i] - transposed[i]));
    }
    tf.env().set(lib.CPU_GEMM_FLAG, 'auto');
    return {max, length: a.length === reference.length && b.length === reference.length};
  }, name);
  expect(worst.length).toBe(true);
  expect(worst.max).toBeLessThan(1e-4);
});

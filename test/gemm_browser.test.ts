/**
 * The CPU GEMM paths in real headless Chromium, on the page's main thread: WebAssembly SIMD
 * is found and picked under 'auto' (the module compiles synchronously there), and both
 * paths match tf.conv2d.
 */
import * as esbuild from 'esbuild';
import * as path from 'path';
import type {Browser, Page} from 'playwright-core';
import {launchChromium} from './browser/chromium';

interface GemmPage {
  tf: typeof import('@tensorflow/tfjs-core');
  im2colConv2d: typeof import('../src').im2colConv2d;
  CPU_GEMM_FLAG: string;
  availableCpuGemms: typeof import('../src/cpu/gemm').availableCpuGemms;
  cpuGemm: typeof import('../src/cpu/gemm').cpuGemm;
}

let browser: Browser;
let page: Page;

beforeAll(async () => {
  const bundle = await esbuild.build({
    entryPoints: [path.join(__dirname, 'browser/gemm_page.ts')],
    bundle: true,
    format: 'iife',
    platform: 'browser',
    target: 'es2020',
    write: false,
    logLevel: 'warning',
  });
  browser = await launchChromium();
  page = await browser.newPage();
  await page.addScriptTag({content: bundle.outputFiles[0].text});
});

afterAll(async () => {
  await browser?.close();
});

it('auto picks the wasm GEMM on the main thread', async () => {
  const picked = await page.evaluate(async () => {
    const {tf, availableCpuGemms, cpuGemm, CPU_GEMM_FLAG} =
        (globalThis as unknown as {gemmPage: GemmPage}).gemmPage;
    await tf.setBackend('cpu');
    return {available: availableCpuGemms(), flag: tf.env().get(CPU_GEMM_FLAG), name: cpuGemm().name};
  });
  expect(picked).toEqual({available: ['wasm', 'typescript'], flag: 'auto', name: 'wasm'});
});

it.each(['wasm', 'typescript'])('the %s path matches tf.conv2d (NHWC and NCHW)', async name => {
  const worst = await page.evaluate(async (gemmName: string) => {
    const {tf, im2colConv2d, CPU_GEMM_FLAG} =
        (globalThis as unknown as {gemmPage: GemmPage}).gemmPage;
    await tf.setBackend('cpu');
    tf.env().set(CPU_GEMM_FLAG, gemmName);
    const values = (n: number, seed: number) =>
        Float32Array.from({length: n}, (_, i) => Math.sin(i * 0.73 + seed));
    const x = tf.tensor4d(values(2 * 13 * 10 * 6, 1), [2, 13, 10, 6]);
    const filter = tf.tensor4d(values(3 * 3 * 6 * 11, 2), [3, 3, 6, 11]);
    const expected = tf.conv2d(x, filter, [2, 1], 'same');
    const nhwc = im2colConv2d(x, filter, [2, 1], 'same');
    const nchw = im2colConv2d(tf.transpose(x, [0, 3, 1, 2]), filter, [2, 1], 'same', 'NCHW');
    const reference = expected.dataSync();
    const transposed = tf.transpose(expected, [0, 3, 1, 2]).dataSync();
    const a = nhwc.dataSync(), b = nchw.dataSync();
    let max = 0;
    for (let i = 0; i < reference.length; i++) {
      max = Math.max(max, Math.abs(a[i] - reference[i]), Math.abs(b[i] - transposed[i]));
    }
    tf.env().set(CPU_GEMM_FLAG, 'auto');
    return {max, length: a.length === reference.length && b.length === reference.length};
  }, name);
  expect(worst.length).toBe(true);
  expect(worst.max).toBeLessThan(1e-4);
});

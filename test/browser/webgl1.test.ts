/**
 * The package's shaders need WebGL 2. Where the context is WebGL 1, its own ops say so by
 * name, and useIm2col leaves tfjs's convolutions to tfjs's own kernels with one warning
 * (tfjs-core's conv2d and fused suites pass there: tfjs_core_suites.test.ts, webgl1 entry).
 */
import {TfjsPage} from './tfjs_page';

let page: TfjsPage;

beforeAll(async () => {
  page = await TfjsPage.open();
  await page.useBackend('webgl');
}, 60000);

afterAll(async () => {
  await page?.close();
});

it('own ops name the missing WebGL 2; stand-ins run tfjs\'s kernels with one warning', async () => {
  const result = await page.run(async ({tf, lib}) => {
    const warnings: string[] = [];
    const warn = console.warn;
    console.warn = (...args: unknown[]) => { warnings.push(args.join(' ')); };
    // A fresh webgl backend on a WebGL 1 context, as tfjs's own 'webgl1' test environment.
    tf.engine().reset();
    tf.env().set('WEBGL_VERSION', 1);
    await tf.setBackend('webgl');
    const x = tf.tensor4d(Array.from({length: 16}, (_, i) => i + 1), [1, 4, 4, 1]);
    const w = tf.tensor4d([1, 2, 3, 4], [2, 2, 1, 1]);
    let error = '';
    const before = tf.memory().numTensors;
    try {
      lib.im2colConv2d(x, w, 1, 'valid');
    } catch (e) {
      error = (e as Error).message;
    }
    const leaked = tf.memory().numTensors - before;
    const restore = lib.useIm2col({backends: ['webgl']});
    lib.resetKernelStats();
    const values = [await tf.conv2d(x, w, 1, 'valid').data(), await tf.conv2d(x, w, 1, 'valid').data()];
    const calls = lib.kernelStats().calls;
    restore();
    const version = (tf.backend() as unknown as {gpgpu: {gl: object}}).gpgpu.gl
        instanceof WebGL2RenderingContext ? 2 : 1;
    tf.engine().reset();
    tf.env().set('WEBGL_VERSION', 2);
    console.warn = warn;
    return {error, leaked, values: values.map(v => Array.from(v)), calls, warnings, version};
  });
  expect(result.version).toBe(1);
  expect(result.error).toMatch(/Im2colConv2D: the webgl kernels of tfjs-im2col need WebGL 2, but this context has WEBGL_VERSION 1/);
  expect(result.leaked).toBe(0);
  const example1 = [44, 54, 64, 84, 94, 104, 124, 134, 144];
  expect(result.values).toEqual([example1, example1]);
  expect(result.calls).toEqual({});
  expect(result.warnings).toHaveLength(1);
  expect(result.warnings[0]).toMatch(/need WebGL 2.*tfjs's own webgl kernels run the convolutions/);
});

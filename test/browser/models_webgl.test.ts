/**
 * Model-level integration on tfjs's real webgl backend in headless Chromium: a tf.layers CNN
 * under useIm2col (predictions, counters, restore) and a dilated model that trains under the
 * switch. The gradient sweeps run on every backend in test/browser/shared_bodies.test.ts
 * (test/shared/gradients.ts).
 */
import {PageGlobals, TfjsPage} from './tfjs_page';

const EXTRA = {
  tfl: '@tensorflow/tfjs-layers',
  tfjsGradients: '@tensorflow/tfjs-core/dist/register_all_gradients',
  cases: './test/helpers/conv_cases.ts',
  random: './test/helpers/random.ts',
};

let page: TfjsPage;
let tolerance = 1e-4;

beforeAll(async () => {
  page = await TfjsPage.open(EXTRA);
  await page.useBackend('webgl');
  const info = await page.webglInfo();
  tolerance = info.renderFloat32 ? 1e-4 : 2e-2;
}, 60000);

afterAll(async () => {
  await page?.close();
});

/** Page side: a small seeded CNN (conv2d + relu, pooling, conv1d, dense), compiled. */
function defineModel({tf, tfl}: PageGlobals): void {
  (globalThis as unknown as {smallCnn: unknown}).smallCnn = (dilation: number, activation: string) => {
    const seed = (s: number) => tfl.initializers.glorotUniform({seed: s});
    const model = tfl.sequential();
    model.add(tfl.layers.conv2d({inputShape: [10, 10, 2], filters: 4, kernelSize: 3, padding: 'same',
                                 activation, dilationRate: dilation, kernelInitializer: seed(1),
                                 biasInitializer: tfl.initializers.randomUniform({minval: -0.5, maxval: 0.5, seed: 4})}));
    model.add(tfl.layers.maxPooling2d({poolSize: 2}));
    model.add(tfl.layers.reshape({targetShape: [25, 4]}));
    model.add(tfl.layers.conv1d({filters: 3, kernelSize: 3, activation: 'relu', dilationRate: dilation,
                                 kernelInitializer: seed(2)}));
    model.add(tfl.layers.flatten());
    model.add(tfl.layers.dense({units: 2, kernelInitializer: seed(3)}));
    model.compile({optimizer: tf.train.sgd(0.01), loss: 'meanSquaredError'});
    return model;
  };
}

describe('useIm2col with a tf.layers CNN (webgl)', () => {
  it('predicts what tfjs predicts, the counters show im2col ran, and restore is exact', async () => {
    await page.run(defineModel);
    const result = await page.run(({tf, lib, random, cases}) => {
      const rng = new random.Random(1);
      const model = (globalThis as any).smallCnn(1, 'relu');
      const xs = tf.tensor4d(rng.values(4 * 200), [4, 10, 10, 2]);
      const expected = (model.predict(xs) as any).dataSync();
      const before = [tf.getKernel('Conv2D', 'webgl'), tf.getKernel('FusedConv2D', 'webgl')];
      lib.resetKernelStats();
      const restore = lib.useIm2col({backends: ['webgl']});
      const switched = [tf.getKernel('Conv2D', 'webgl'), tf.getKernel('FusedConv2D', 'webgl')];
      const actual = (model.predict(xs) as any).dataSync();
      restore();
      const after = [tf.getKernel('Conv2D', 'webgl'), tf.getKernel('FusedConv2D', 'webgl')];
      const again = (model.predict(xs) as any).dataSync();
      return {
        error: cases.relativeError(actual, expected),
        calls: lib.kernelStats().calls,
        swapped: switched.every((k, i) => k !== before[i]),
        restored: after.every((k, i) => k === before[i]),
        sameAfterRestore: Array.from(again).every((v, i) => v === expected[i]),
      };
    });
    expect(result.error).toBeLessThan(tolerance);
    expect(result.calls['FusedConv2D/webgl']).toBe(1);
    expect(result.calls['Conv2D/webgl']).toBe(1);
    expect(result.swapped).toBe(true);
    expect(result.restored).toBe(true);
    expect(result.sameAfterRestore).toBe(true);
  });

  it('trains a dilated model under the switch (tfjs alone throws)', async () => {
    await page.run(defineModel);
    const result = await page.run(async ({tf, lib, random}) => {
      const rng = new random.Random(7);
      const xs = tf.tensor4d(rng.values(16 * 200), [16, 10, 10, 2]);
      const ys = tf.tensor2d(rng.values(32), [16, 2]);
      let tfjsError = '';
      try {
        await (globalThis as any).smallCnn(2, 'linear').fit(xs, ys, {epochs: 1, batchSize: 8, verbose: 0});
      } catch (error) {
        tfjsError = String(error);
      }
      lib.resetKernelStats();
      const restore = lib.useIm2col({backends: ['webgl']});
      try {
        const model = (globalThis as any).smallCnn(2, 'linear');
        const history = await model.fit(xs, ys, {epochs: 4, batchSize: 8, shuffle: false, verbose: 0});
        return {tfjsError, losses: history.history.loss as number[], calls: lib.kernelStats().calls};
      } finally {
        restore();
      }
    });
    expect(result.tfjsError).toMatch(/dilation rates greater than 1 are not yet supported/);
    expect(result.losses.every(Number.isFinite)).toBe(true);
    expect(result.losses[3]).toBeLessThan(result.losses[0]);
    expect(result.calls['Col2im/webgl']).toBeGreaterThan(0);
    expect(result.calls['Im2col/webgl']).toBeGreaterThan(0);
  });
});

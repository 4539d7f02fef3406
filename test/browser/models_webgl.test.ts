/**
 * Model-level integration on tfjs's real webgl backend in headless Chromium: a tf.layers CNN
 * under useIm2col (predictions, counters, restore), gradients of im2colConv2d and
 * fusedIm2colConv2d on webgl against tfjs's gradients of the equivalent tf.conv2d (zero-
 * expanded filters for dilation), and a dilated model that trains under the switch.
 */
import {PageGlobals, TfjsPage} from './tfjs_page';

const EXTRA = {
  tfl: '@tensorflow/tfjs-layers',
  tfjsGradients: '@tensorflow/tfjs-core/dist/register_all_gradients',
  cases: './test/helpers/conv_cases.ts',
  ref: './test/helpers/grad_reference.ts',
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

describe('gradients on webgl', () => {
  it('of im2colConv2d and fusedIm2colConv2d match tf.conv2d\'s over a seeded sweep', async () => {
    const result = await page.run(({tf, lib, cases, ref, random}) => {
      const rng = new random.Random(2024);
      // (Software WebGL compiles shaders per shape, slowly: a few cases, every activation.)
      const activations = ['linear', 'relu', 'elu', 'sigmoid', 'leakyrelu', 'prelu', 'relu6'] as const;
      const errors: Array<{i: number, error: number}> = [];
      let dilated = 0, nchw = 0;
      for (let i = 0; i < 8; i++) {
        let c = cases.randomConv2dCase(rng);
        while (c.x.length > 1500) c = cases.randomConv2dCase(rng);
        dilated += +(Math.max(...c.dilations) > 1);
        nchw += +(c.dataFormat === 'NCHW');
        const activation = activations[i % activations.length];
        tf.tidy(() => {
          const x = tf.tensor4d(c.x, c.xShape as any);
          const f = tf.tensor4d(c.filter, c.filterShape as any);
          const outC = c.filterShape[3];
          const bias = tf.tensor1d(rng.values(outC));
          const alpha = tf.tensor1d(rng.values(outC));
          const perChannel = (t: any) => c.dataFormat === 'NCHW' ? tf.reshape(t, [outC, 1, 1]) : t;
          const reference = (a: any, b: any, bb: any) => {
            const z = tf.add(ref.referenceConv2dOf(tf, c, a, b), perChannel(bb));
            return activation === 'linear' ? z : activation === 'relu' ? tf.relu(z) :
                activation === 'elu' ? tf.elu(z) : activation === 'sigmoid' ? tf.sigmoid(z) :
                activation === 'leakyrelu' ? tf.leakyRelu(z, 0.2) : activation === 'relu6' ? tf.relu6(z) :
                tf.prelu(z, perChannel(alpha));
          };
          const ours = (a: any, b: any, bb: any) => lib.fusedIm2colConv2d({
            x: a, filter: b, strides: c.strides, pad: c.pad, dataFormat: c.dataFormat,
            dilations: c.dilations, dimRoundingMode: c.dimRoundingMode, bias: bb, activation,
            preluActivationWeights: alpha});
          const plain = (a: any, b: any) => lib.im2colConv2d(a, b, c.strides, c.pad, c.dataFormat,
                                                              c.dilations, c.dimRoundingMode);
          const y = ours(x, f, bias);
          const r = tf.tensor(rng.values(y.size), y.shape);
          const grads = (fn: any, inputs: any[]) =>
              tf.grads((...t: any[]) => tf.sum(tf.mul(fn(...t), r)))(inputs);
          const pairs = [
            [grads(ours, [x, f, bias]), grads(reference, [x, f, bias])],
            [grads(plain, [x, f]), grads((a: any, b: any) => ref.referenceConv2dOf(tf, c, a, b), [x, f])],
          ];
          for (const [got, want] of pairs) {
            got.forEach((g: any, k: number) => errors.push(
                {i, error: cases.relativeError(g.dataSync(), want[k].dataSync())}));
          }
        });
      }
      return {worst: Math.max(...errors.map(e => e.error)), dilated, nchw,
              calls: lib.kernelStats().calls};
    });
    console.log(`webgl gradients: worst relative error ${result.worst.toExponential(2)} ` +
                `(${result.dilated} dilated, ${result.nchw} NCHW cases)`);
    expect(result.worst).toBeLessThan(tolerance * 10);
    expect(result.dilated).toBeGreaterThan(0);
    expect(result.calls['Col2im/webgl']).toBeGreaterThan(0);
    expect(result.calls['FusedIm2colConv2D/webgl']).toBeGreaterThan(0);
  });

  it('in tiles of rows and of images under a small workspace budget match tf.conv2d\'s', async () => {
    const result = await page.run(({tf, lib, cases, ref, random}) => {
      const rng = new random.Random(515);
      const defaultBudget = tf.env().getNumber(lib.WORKSPACE_BYTES_FLAG);
      const results: Array<{error: number, peak: number, budget: number}> = [];
      try {
        for (let i = 0; i < 4; i++) {
          let c = cases.randomConv2dCase(rng);
          while (c.x.length > 1500 || c.xShape[0] < 2) c = cases.randomConv2dCase(rng);
          const [kh, kw, inC] = c.filterShape;
          // Odd cases: two output rows of one image per tile; even: one image per tile.
          const plain = (a: any, b: any) => lib.im2colConv2d(a, b, c.strides, c.pad, c.dataFormat,
                                                              c.dilations, c.dimRoundingMode);
          tf.tidy(() => {
            const x = tf.tensor4d(c.x, c.xShape as any);
            const f = tf.tensor4d(c.filter, c.filterShape as any);
            const y = plain(x, f);
            const [outHeight, outWidth] = c.dataFormat === 'NHWC' ? y.shape.slice(1, 3) :
                                                                   y.shape.slice(2, 4);
            const budget = 4 * kh * kw * inC * outWidth * (i % 2 ? 2 : outHeight);
            const r = tf.tensor(rng.values(y.size), y.shape);
            const grads = (fn: any) => tf.grads((a: any, b: any) => tf.sum(tf.mul(fn(a, b), r)))([x, f]);
            const want = grads((a: any, b: any) => ref.referenceConv2dOf(tf, c, a, b));
            tf.env().set(lib.WORKSPACE_BYTES_FLAG, budget);
            lib.resetKernelStats();
            const got = grads(plain);
            const peak = lib.kernelStats().peakWorkspaceBytes;
            tf.env().set(lib.WORKSPACE_BYTES_FLAG, defaultBudget);
            got.forEach((g: any, k: number) => results.push(
                {error: cases.relativeError(g.dataSync(), want[k].dataSync()), peak, budget}));
          });
        }
      } finally {
        tf.env().set(lib.WORKSPACE_BYTES_FLAG, defaultBudget);
      }
      return results;
    });
    for (const {error, peak, budget} of result) {
      expect(error).toBeLessThan(tolerance * 10);
      expect(peak).toBeLessThanOrEqual(budget);
    }
  });
});

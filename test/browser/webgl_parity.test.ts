/**
 * The webgl kernels in headless Chromium, on tfjs's real webgl backend: the article's
 * examples exactly, larger batches and channel counts (packed inputs too) against tf.conv2d
 * on webgl and on cpu, and the Im2col op. The seeded random sweep runs on every backend in
 * test/browser/shared_bodies.test.ts (test/shared/parity.ts).
 */
import type * as tfc from '@tensorflow/tfjs-core';
import {Conv1dCase, Conv2dCase, randomConv2dCase} from '../helpers/conv_cases';
import {Random} from '../helpers/random';
import {PageGlobals, TfjsPage} from './tfjs_page';

const HELPERS = {cases: './test/helpers/conv_cases.ts', article: './test/helpers/article.ts'};
const BATCH = 50;

let page: TfjsPage;
let tolerance = 1e-4;

beforeAll(async () => {
  ({page, tolerance} = await TfjsPage.openOnWebgl(HELPERS));
}, 180000);

afterAll(async () => {
  await page?.close();
});

interface CaseResult {
  shape: number[];
  expectedShape: number[];
  /** Relative error against tf.conv2d on webgl (null where not run) and on cpu. */
  webglError: number | null;
  cpuError: number;
  leakedTensors: number;
  leakedBytes: number;
}

type Variant = {rank3: boolean, packedInput: boolean, webglReference: boolean};
type SweepCase = (Conv2dCase | Conv1dCase) & Variant;

/** Page side: runs each case on webgl, compares with the references, checks for leaks. */
async function runCases({tf, lib, cases}: PageGlobals, list: SweepCase[]): Promise<CaseResult[]> {
  const results: CaseResult[] = [];
  for (const c of list) {
    const reference = (backend: string) => {
      tf.setBackend(backend);
      const ref = c.kind === 'conv2d' ? cases.referenceConv2d(tf, c) : cases.referenceConv1d(tf, c);
      const values = ref.dataSync();
      const shape = ref.shape;
      ref.dispose();
      tf.setBackend('webgl');
      return {values, shape};
    };
    const onCpu = reference('cpu');
    const onWebgl = c.webglReference ? reference('webgl') : null;
    const x0 = tf.tensor(c.x, c.xShape);
    // A packed input texture, as the output of a previous packed op would be.
    const x1 = c.packedInput ? tf.add(x0, tf.scalar(0)) : x0;
    const x = c.rank3 ? tf.squeeze(x1, [0]) : x1;
    const filter = tf.tensor(c.filter, c.filterShape);
    const run = (): tfc.Tensor => c.kind === 'conv2d' ?
        lib.im2colConv2d(x as never, filter as never, c.strides, c.pad, c.dataFormat, c.dilations,
                         c.dimRoundingMode) :
        lib.im2colConv1d(x as never, filter as never, c.stride, c.pad, c.dataFormat, c.dilation);
    // The first run uploads x and filter; the second must leave the GPU as it found it.
    run().dispose();
    const start = tf.memory() as unknown as {numTensors: number, numBytesInGPU: number};
    const out = run();
    const values = out.dataSync();
    const shape = c.rank3 ? [1, ...out.shape] : out.shape;
    out.dispose();
    const end = tf.memory() as unknown as {numTensors: number, numBytesInGPU: number};
    tf.dispose([x0, x1, x, filter]);
    results.push({
      shape, expectedShape: onCpu.shape,
      webglError: onWebgl == null ? null : cases.relativeError(values, onWebgl.values),
      cpuError: cases.relativeError(values, onCpu.values),
      leakedTensors: end.numTensors - start.numTensors,
      leakedBytes: end.numBytesInGPU - start.numBytesInGPU,
    });
  }
  return results;
}

function label(c: SweepCase): string {
  return JSON.stringify(c, (key, value) => key === 'x' || key === 'filter' ? undefined : value);
}

async function sweep(cases: SweepCase[]): Promise<{worstWebgl: number, worstCpu: number}> {
  let worstWebgl = 0;
  let worstCpu = 0;
  for (let i = 0; i < cases.length; i += BATCH) {
    const batch = cases.slice(i, i + BATCH);
    const results = await page.run(runCases, batch);
    results.forEach((r, j) => {
      const c = batch[j];
      expect({case: label(c), shape: r.shape}).toEqual({case: label(c), shape: r.expectedShape});
      expect({case: label(c), leakedTensors: r.leakedTensors, leakedBytes: r.leakedBytes})
          .toEqual({case: label(c), leakedTensors: 0, leakedBytes: 0});
      if (!((r.webglError ?? 0) <= tolerance && r.cpuError <= tolerance)) {
        throw new Error(`case ${i + j}: error ${r.webglError} (webgl) / ${r.cpuError} (cpu) ` +
                        `for ${label(c)}`);
      }
      worstWebgl = Math.max(worstWebgl, r.webglError ?? 0);
      worstCpu = Math.max(worstCpu, r.cpuError);
    });
  }
  return {worstWebgl, worstCpu};
}

describe('article examples on webgl', () => {
  it('explainConv2d / explainConv1d give the seed matrices exactly', async () => {
    const got = await page.run(({lib, article}) => {
      const {example1, example2, example3} = article;
      const e1 = lib.explainConv2d(example1.x, example1.filter, 1, 'valid');
      const e2 = lib.explainConv2d(example2.x, example2.filter, 1, 'valid');
      const e3 = lib.explainConv1d(example3.x, example3.filter, example3.stride, example3.pad,
                                   example3.dilation);
      const rows = lib.im2col(example1.x, 2, 1, 'valid');
      return {
        p1: e1.P.arraySync(), k1: e1.K.arraySync(), kp1: e1.KP.arraySync(),
        out1: e1.output.arraySync(), k2: e2.K.arraySync(), kp2: e2.KP.arraySync(),
        out2: e2.output.arraySync(), p3: e3.P.arraySync(), k3: e3.K.arraySync(),
        kp3: e3.KP.arraySync(), out3: e3.output.arraySync(), rows1: rows.arraySync(),
        calls: lib.kernelStats().calls,
      };
    });
    const {example1, example2, example3} = await import('../helpers/article');
    expect(got.p1).toEqual(example1.P);
    expect(got.k1).toEqual(example1.K);
    expect(got.kp1).toEqual(example1.KP);
    expect((got.out1 as number[][][]).flat(2)).toEqual(example1.KP[0]);
    expect(got.rows1).toEqual([example1.P[0].map((_, j) => example1.P.map(row => row[j]))]);
    expect(got.k2).toEqual(example2.K);
    expect(got.kp2).toEqual(example2.KP);
    expect(got.out2).toEqual([0, 1, 2].map(h => [0, 1, 2].map(
        w => [example2.KP[0][3 * h + w], example2.KP[1][3 * h + w]])));
    expect(got.p3).toEqual(example3.P);
    expect(got.k3).toEqual(example3.K);
    expect(got.kp3).toEqual(example3.KP);
    expect(got.out3).toEqual(example3.output);
    // The outputs came from this package's webgl kernels.
    expect(got.calls['Im2colConv2D/webgl']).toBeGreaterThanOrEqual(2);
    expect(got.calls['Im2colConv1D/webgl']).toBeGreaterThanOrEqual(1);
    expect(got.calls['Im2col/webgl']).toBeGreaterThanOrEqual(3);
  });
});

describe('larger layers on webgl vs tf.conv2d on webgl and cpu', () => {
  it('agrees on larger batches and channel counts', async () => {
    const rng = new Random(7);
    const make = (xShape: number[], filterShape: number[], rest: Partial<Conv2dCase>): SweepCase => ({
      kind: 'conv2d', xShape, filterShape, strides: [1, 1], dilations: [1, 1], pad: 'same',
      dataFormat: 'NHWC', x: Array.from(rng.values(xShape.reduce((a, b) => a * b))),
      filter: Array.from(rng.values(filterShape.reduce((a, b) => a * b))), rank3: false,
      packedInput: false, webglReference: true, ...rest,
    } as SweepCase);
    await sweep([
      make([4, 12, 12, 16], [3, 3, 16, 24], {}),
      make([3, 9, 11, 7], [3, 2, 7, 13], {strides: [2, 1], packedInput: true} as Partial<Conv2dCase>),
      make([2, 16, 10, 10], [5, 5, 16, 6], {dataFormat: 'NCHW', pad: 'valid'}),
      make([5, 3, 15, 9], [3, 3, 3, 5], {dataFormat: 'NCHW', dilations: [2, 2], strides: [2, 2]}),
    ]);
  }, 300000);
});

describe('the Im2col op on webgl', () => {
  it('its rows times the flattened filter give tf.conv2d', async () => {
    const rng = new Random(11);
    const cases = Array.from({length: 16}, () => randomConv2dCase(rng))
        .filter(c => c.dataFormat === 'NHWC' && c.dimRoundingMode == null);
    const errors = await page.run(({tf, lib, cases: helpers}, list: Conv2dCase[]) => list.map(c => {
      const x = tf.tensor4d(c.x, c.xShape as [number, number, number, number]);
      const filter = tf.tensor2d(c.filter, [c.filterShape[0] * c.filterShape[1] * c.filterShape[2], c.filterShape[3]]);
      const rows = lib.im2col(x, [c.filterShape[0], c.filterShape[1]], c.strides, c.pad, c.dilations);
      const product = tf.matMul(rows, tf.tile(tf.expandDims(filter, 0), [rows.shape[0], 1, 1]));
      const expected = helpers.referenceConv2d(tf, c);
      const error = helpers.relativeError(product.dataSync(), expected.dataSync());
      tf.dispose([x, filter, rows, product, expected]);
      return error;
    }), cases);
    expect(cases.length).toBeGreaterThan(3);
    errors.forEach(e => expect(e).toBeLessThan(tolerance));
  }, 300000);
});

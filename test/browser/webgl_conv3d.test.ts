/**
 * The webgl driver's 3D convolutions in headless Chromium, called directly (the kernels and
 * ops come later): conv3d and conv3dTranspose against tfjs's Conv3D / Conv3DBackpropInputV2
 * on the cpu backend (NCDHW through transposes; strides and dilations both above 1, which
 * tfjs refuses, against this package's cpu driver alone), vol2col against a plain loop;
 * odd sizes, batch 2, strides, dilations, 'same' / 'valid', packed inputs, chunked runs
 * under a small IM2COL_WORKSPACE_BYTES or WEBGL_MAX_TEXTURE_SIZE, and no texture left
 * behind, also where a pass throws.
 */
import {TfjsPage} from './tfjs_page';

const MODULES = {
  driver3d: './src/webgl/driver.ts', cpuDriver3d: './src/cpu/driver.ts',
  geometry: './src/geometry/index.ts', random: './test/helpers/random.ts',
  cases: './test/helpers/conv_cases.ts',
};

type Triple = number | [number, number, number];

interface Conv3dCase {
  name: string;
  /** In the case's data format. */
  xShape: number[];
  filterShape: number[];
  strides: Triple;
  pad: 'same' | 'valid';
  dilations: Triple;
  dataFormat: 'NDHWC' | 'NCDHW';
  seed: number;
  /** x, filter and dy as packed textures on the GPU (as earlier packed ops leave them). */
  packed?: boolean;
  /** tfjs flags set while the driver runs. */
  flags?: Record<string, number>;
  /**
   * A 1x1x1, stride-1 NDHWC convolution: the 2D 1x1 one, which reads its (packed, after the
   * warm-up run) input as the patch matrix: no patch workspace.
   */
  readDirectly?: boolean;
}

interface Conv3dResult {
  name: string;
  forwardShape: number[];
  transposeShape: number[];
  expectedForwardShape: number[];
  expectedTransposeShape: number[];
  /** Relative errors against tfjs (null where tfjs cannot run the case) and our cpu driver. */
  forwardTfjs: number | null;
  forwardCpu: number;
  transposeTfjs: number | null;
  transposeCpu: number;
  forwardWorkspace: number;
  transposeWorkspace: number;
  /** Bytes of the whole patch matrix as one packed texture. */
  wholePatchBytes: number;
  leakedDataIds: number;
  leakedBytes: number;
}

let page: TfjsPage;
let tolerance = 1e-4;

beforeAll(async () => {
  ({page, tolerance} = await TfjsPage.openOnWebgl(MODULES));
}, 180000);

afterAll(async () => {
  await page?.close();
});

/** Page side: each case's forward and transposed convolution on webgl, and the references. */
async function runCases({tf, driver3d, cpuDriver3d, geometry, random, cases}: any,
                        list: Conv3dCase[]): Promise<Conv3dResult[]> {
  const size = (shape: number[]) => shape.reduce((a, b) => a * b, 1);
  const infoOf = (t: any) => ({dataId: t.dataId, shape: t.shape, dtype: t.dtype});
  const allOne = (v: Triple) => (typeof v === 'number' ? [v, v, v] : v).every(n => n === 1);
  const results: Conv3dResult[] = [];
  for (const c of list) {
    const channelsFirst = c.dataFormat === 'NCDHW';
    const g = geometry.conv3dGeometry(c.xShape, c.filterShape, c);
    const rng = new random.Random(c.seed);
    const xValues = rng.values(size(c.xShape));
    const filterValues = rng.values(size(c.filterShape));
    const dyValues = rng.values(size(g.outShape));

    // References on the cpu backend: tfjs's kernels (NDHWC) and this package's cpu driver.
    await tf.setBackend('cpu');
    const cpu = tf.backend();
    const toLast = (t: any) => channelsFirst ? tf.transpose(t, [0, 2, 3, 4, 1]) : t;
    const toFirst = (t: any) => channelsFirst ? tf.transpose(t, [0, 4, 1, 2, 3]) : t;
    const refs = tf.tidy(() => {
      const x = tf.tensor(xValues, c.xShape);
      const filter = tf.tensor(filterValues, c.filterShape);
      const dy = tf.tensor(dyValues, g.outShape);
      const tfjsRuns = allOne(c.strides) || allOne(c.dilations);
      const forward = tfjsRuns ?
          toFirst(tf.conv3d(toLast(x), filter, c.strides, c.pad, 'NDHWC', c.dilations)) : null;
      const lastShape = toLast(x).shape;
      const transpose = allOne(c.dilations) ?
          toFirst(tf.conv3dTranspose(toLast(dy), filter, lastShape, c.strides, c.pad)) : null;
      const cpuForward = cpuDriver3d.cpuDriver.conv3d(cpu, infoOf(x), infoOf(filter), g).out;
      const cpuTranspose =
          cpuDriver3d.cpuDriver.conv3dTranspose(cpu, infoOf(dy), infoOf(filter), g).out;
      const read = (info: any) => {
        const values = cpu.readSync(info.dataId) as Float32Array;
        cpu.disposeIntermediateTensorInfo(info);
        return values;
      };
      return {
        forward: forward && {values: forward.dataSync(), shape: forward.shape},
        transpose: transpose && {values: transpose.dataSync(), shape: transpose.shape},
        cpuForward: read(cpuForward), cpuTranspose: read(cpuTranspose),
      };
    });
    await tf.setBackend('webgl');

    const webgl = tf.backend();
    let x = tf.tensor(xValues, c.xShape);
    let filter = tf.tensor(filterValues, c.filterShape);
    let dy = tf.tensor(dyValues, g.outShape);
    if (c.packed) {
      // On the GPU (a small op of CPU values would run on the cpu), packed.
      const cpuForward = tf.env().getBool('WEBGL_CPU_FORWARD');
      tf.env().set('WEBGL_CPU_FORWARD', false);
      const onGpu = (t: any) => {
        const packed = tf.add(t, tf.scalar(0));
        t.dispose();
        return packed;
      };
      [x, filter, dy] = [onGpu(x), onGpu(filter), onGpu(dy)];
      tf.env().set('WEBGL_CPU_FORWARD', cpuForward);
    }
    const saved: Record<string, unknown> = {};
    for (const [flag, value] of Object.entries(c.flags ?? {})) {
      saved[flag] = tf.env().get(flag);
      tf.env().set(flag, value);
    }
    const driver = driver3d.webglDriver;
    const forward = () => driver.conv3d(webgl, infoOf(x), infoOf(filter), g);
    const transpose = () => driver.conv3dTranspose(webgl, infoOf(dy), infoOf(filter), g);
    const read = (info: any) => {
      const values = webgl.readSync(info.dataId) as Float32Array;
      webgl.disposeIntermediateTensorInfo(info);
      return values;
    };
    try {
      // The first runs upload x, the filter and dy, compile, and fill the texture pool.
      read(forward().out);
      read(transpose().out);
      const start = {ids: webgl.numDataIds(), bytes: tf.memory().numBytesInGPU};
      const ours = forward();
      const oursT = transpose();
      const forwardShape = ours.out.shape;
      const transposeShape = oursT.out.shape;
      const forwardValues = read(ours.out);
      const transposeValues = read(oursT.out);
      const end = {ids: webgl.numDataIds(), bytes: tf.memory().numBytesInGPU};
      results.push({
        name: c.name, forwardShape, transposeShape,
        expectedForwardShape: g.outShape, expectedTransposeShape: g.inShape,
        forwardTfjs: refs.forward && cases.relativeError(forwardValues, refs.forward.values),
        forwardCpu: cases.relativeError(forwardValues, refs.cpuForward),
        transposeTfjs: refs.transpose &&
            cases.relativeError(transposeValues, refs.transpose.values),
        transposeCpu: cases.relativeError(transposeValues, refs.cpuTranspose),
        forwardWorkspace: ours.workspaceBytes, transposeWorkspace: oursT.workspaceBytes,
        wholePatchBytes: 16 * g.batchSize * g.outDepth * g.outHeight * Math.ceil(g.outWidth / 2) *
            Math.ceil(g.filterDepth * g.filterHeight * g.filterWidth * g.inChannels / 2),
        leakedDataIds: end.ids - start.ids, leakedBytes: end.bytes - start.bytes,
      });
    } finally {
      for (const [flag, value] of Object.entries(saved)) tf.env().set(flag, value);
      tf.dispose([x, filter, dy]);
    }
  }
  return results;
}

function check(results: Conv3dResult[], list: Conv3dCase[]): void {
  results.forEach((r, i) => {
    const c = list[i];
    const budget = c.flags?.IM2COL_WORKSPACE_BYTES ?? Infinity;
    const maxSize = c.flags?.WEBGL_MAX_TEXTURE_SIZE ?? Infinity;
    expect({name: r.name, forward: r.forwardShape, transpose: r.transposeShape}).toEqual(
        {name: r.name, forward: r.expectedForwardShape, transpose: r.expectedTransposeShape});
    const errors = {forwardTfjs: r.forwardTfjs ?? 0, forwardCpu: r.forwardCpu,
                    transposeTfjs: r.transposeTfjs ?? 0, transposeCpu: r.transposeCpu};
    for (const [what, error] of Object.entries(errors)) {
      if (!(error <= tolerance)) throw new Error(`${r.name}: ${what} error ${error}`);
    }
    const workspace = Math.max(r.forwardWorkspace, r.transposeWorkspace);
    expect({name: r.name, workspace: workspace <= Math.min(budget, 16 * maxSize * maxSize)})
        .toEqual({name: r.name, workspace: true});
    if (c.readDirectly) {
      expect({name: r.name, workspace}).toEqual({name: r.name, workspace: 0});
    } else {
      // Without a bound the patch matrix is one chunk; under one it takes several.
      const chunked = Math.min(r.forwardWorkspace, r.transposeWorkspace) < r.wholePatchBytes;
      expect({name: r.name, chunked}).toEqual({name: r.name, chunked: c.flags != null});
    }
    expect({name: r.name, leakedDataIds: r.leakedDataIds, leakedBytes: r.leakedBytes})
        .toEqual({name: r.name, leakedDataIds: 0, leakedBytes: 0});
  });
}

const base = {strides: 1 as Triple, pad: 'same' as const, dilations: 1 as Triple,
              dataFormat: 'NDHWC' as const};

const NDHWC_CASES: Conv3dCase[] = [
  {...base, name: 'odd sizes and channels, same', xShape: [1, 5, 6, 7, 3],
   filterShape: [3, 3, 3, 3, 4], seed: 1},
  {...base, name: 'batch 2, stride 2, valid', xShape: [2, 7, 5, 6, 4],
   filterShape: [2, 3, 2, 4, 5], strides: 2, pad: 'valid', seed: 2},
  {...base, name: 'batch 2, dilation 2, same', xShape: [2, 6, 7, 5, 2],
   filterShape: [3, 2, 3, 2, 3], dilations: 2, seed: 3},
  {...base, name: 'strides [2, 1, 2], same', xShape: [2, 9, 8, 7, 3],
   filterShape: [3, 3, 3, 3, 2], strides: [2, 1, 2], seed: 4},
  {...base, name: 'dilations [1, 2, 3], valid', xShape: [1, 7, 8, 9, 2],
   filterShape: [2, 3, 2, 2, 3], dilations: [1, 2, 3], pad: 'valid', seed: 5},
  {...base, name: 'stride 2 and dilation 2 (cpu driver reference)', xShape: [1, 9, 9, 9, 2],
   filterShape: [2, 2, 2, 2, 3], strides: 2, dilations: 2, pad: 'valid', seed: 6},
  {...base, name: '1x1x1 of packed inputs (the 2D 1x1 convolution)', xShape: [2, 4, 4, 6, 8],
   filterShape: [1, 1, 1, 8, 6], pad: 'valid', packed: true, readDirectly: true, seed: 7},
  {...base, name: '1x1x1, odd width and channels (the 2D 1x1 convolution)',
   xShape: [2, 3, 4, 5, 3], filterShape: [1, 1, 1, 3, 5], pad: 'valid', readDirectly: true,
   seed: 16},
  {...base, name: '1x1x1, stride 2 (vol2col)', xShape: [1, 5, 6, 7, 4],
   filterShape: [1, 1, 1, 4, 3], strides: 2, seed: 17},
  {...base, name: 'packed inputs, even channels, dy read as rows', xShape: [2, 3, 4, 6, 2],
   filterShape: [2, 2, 2, 2, 4], packed: true, seed: 18},
  {...base, name: 'packed inputs, even channels, 3x3x3', xShape: [1, 4, 6, 6, 4],
   filterShape: [3, 3, 3, 4, 6], packed: true, seed: 8},
  {...base, name: 'filter larger than the input, same', xShape: [1, 2, 3, 2, 2],
   filterShape: [3, 3, 3, 2, 2], seed: 9},
  {...base, name: 'odd output width, batch 2', xShape: [2, 3, 4, 5, 6],
   filterShape: [2, 2, 3, 6, 4], pad: 'valid', seed: 10},
];

const NCDHW_CASES: Conv3dCase[] = [
  {...base, dataFormat: 'NCDHW', name: 'NCDHW, odd output height (rows split into slices)',
   xShape: [2, 3, 5, 5, 6], filterShape: [3, 3, 3, 3, 4], seed: 11},
  {...base, dataFormat: 'NCDHW', name: 'NCDHW, even output height, stride 2',
   xShape: [1, 2, 6, 8, 7], filterShape: [2, 2, 2, 2, 3], strides: 2, seed: 12},
  {...base, dataFormat: 'NCDHW', name: 'NCDHW, dilation 2, packed inputs',
   xShape: [2, 4, 5, 6, 5], filterShape: [2, 3, 2, 4, 3], dilations: 2, pad: 'valid',
   packed: true, seed: 13},
  {...base, dataFormat: 'NCDHW', name: 'NCDHW, one output depth, odd height',
   xShape: [1, 3, 3, 5, 4], filterShape: [3, 3, 3, 3, 2], pad: 'valid', seed: 14},
  {...base, dataFormat: 'NCDHW', name: 'NCDHW, 1x1x1 (vol2col), packed inputs',
   xShape: [1, 4, 3, 5, 6], filterShape: [1, 1, 1, 4, 2], pad: 'valid', packed: true,
   seed: 19},
];

/** The case of that name, under another name and flags. */
function variant(list: Conv3dCase[], of: string, name: string, flags: Record<string, number>):
    Conv3dCase {
  const found = list.find(c => c.name === of);
  if (found == null) throw new Error(`no case named ${of}`);
  return {...found, name, flags};
}

const ODD = 'odd sizes and channels, same';
const NCDHW_ODD = 'NCDHW, odd output height (rows split into slices)';
const CHUNKED_CASES: Conv3dCase[] = [
  variant(NDHWC_CASES, ODD, '4 KiB workspace: one output row per chunk',
          {IM2COL_WORKSPACE_BYTES: 4096}),
  variant(NDHWC_CASES, ODD, '1.5 KiB workspace: column ranges of one row',
          {IM2COL_WORKSPACE_BYTES: 1536}),
  variant(NDHWC_CASES, 'batch 2, stride 2, valid', 'batch 2, stride 2, 2 KiB workspace',
          {IM2COL_WORKSPACE_BYTES: 2048}),
  variant(NDHWC_CASES, 'packed inputs, even channels, 3x3x3', 'packed inputs, 3 KiB workspace',
          {IM2COL_WORKSPACE_BYTES: 3072}),
  variant(NCDHW_CASES, NCDHW_ODD, 'NCDHW, odd output height, 8 KiB workspace: even runs of rows',
          {IM2COL_WORKSPACE_BYTES: 8192}),
  variant(NCDHW_CASES, NCDHW_ODD,
          'NCDHW, odd output height, 2 KiB workspace: columns of row pairs',
          {IM2COL_WORKSPACE_BYTES: 2048}),
  variant(NCDHW_CASES, 'NCDHW, dilation 2, packed inputs', 'NCDHW, packed, 1 KiB workspace',
          {IM2COL_WORKSPACE_BYTES: 1024}),
  {...base, name: 'WEBGL_MAX_TEXTURE_SIZE 64: chunks of rows', xShape: [2, 6, 8, 10, 4],
   filterShape: [3, 3, 3, 4, 5], seed: 15, flags: {WEBGL_MAX_TEXTURE_SIZE: 64}},
];

describe('webgl driver: conv3d and conv3dTranspose', () => {
  it('NDHWC: odd sizes, batch 2, strides, dilations, same / valid, packed inputs', async () => {
    check(await page.run(runCases, NDHWC_CASES), NDHWC_CASES);
  }, 300000);

  it('NCDHW (tfjs through transposes)', async () => {
    check(await page.run(runCases, NCDHW_CASES), NCDHW_CASES);
  }, 300000);

  it('chunked under a small workspace or texture size, the same results', async () => {
    check(await page.run(runCases, CHUNKED_CASES), CHUNKED_CASES);
  }, 300000);

  it('empty outputs and zero output channels give zeros', async () => {
    const got = await page.run(({tf, driver3d, geometry}: any) => {
      const webgl = tf.backend();
      const x = tf.ones([1, 3, 3, 3, 2]);
      const filter = tf.zeros([2, 2, 2, 2, 0]);
      const g = geometry.conv3dGeometry(x.shape, filter.shape,
          {strides: 1, pad: 'valid', dilations: 1, dataFormat: 'NDHWC'});
      const info = (t: any) => ({dataId: t.dataId, shape: t.shape, dtype: t.dtype});
      const out = driver3d.webglDriver.conv3d(webgl, info(x), info(filter), g).out;
      const dy = tf.zeros(g.outShape);
      const dx = driver3d.webglDriver.conv3dTranspose(webgl, info(dy), info(filter), g).out;
      const result = {out: out.shape, dx: dx.shape,
                      dxValues: Array.from(webgl.readSync(dx.dataId) as Float32Array)};
      webgl.disposeIntermediateTensorInfo(out);
      webgl.disposeIntermediateTensorInfo(dx);
      tf.dispose([x, filter, dy]);
      return result;
    });
    expect(got.out).toEqual([1, 2, 2, 2, 0]);
    expect(got.dx).toEqual([1, 3, 3, 3, 2]);
    expect(got.dxValues).toEqual(new Array(54).fill(0));
  }, 60000);
});

describe('webgl driver: outputs downstream', () => {
  it('feed tfjs ops and the next conv3d (textures stored under other shapes)', async () => {
    // NDHWC outputs are stored flat ([batch, positions, outC], even width) or as [batch,
    // oD * oH, oW, outC]; NCDHW ones as [batch * outC * oD, oH, oW] or [batch, outC, oD * oH,
    // oW]; transposed ones under volumeAs4d. Packed tfjs ops and our own programs read them
    // under the 5D shape.
    const list = [
      {xShape: [1, 3, 4, 6, 4], dataFormat: 'NDHWC'},
      {xShape: [2, 3, 4, 5, 3], dataFormat: 'NDHWC'},
      {xShape: [1, 3, 3, 5, 6], dataFormat: 'NCDHW'},
      {xShape: [1, 2, 3, 4, 6], dataFormat: 'NCDHW'},
    ];
    const got = await page.run(async ({tf, driver3d, geometry, random, cases}: any, list: any[]) => {
      const webgl = tf.backend();
      const driver = driver3d.webglDriver;
      const info = (t: any) => ({dataId: t.dataId, shape: t.shape, dtype: t.dtype});
      const results = [];
      for (const [i, c] of list.entries()) {
        const channels = c.dataFormat === 'NDHWC' ? c.xShape[4] : c.xShape[1];
        const settings = {strides: 1, pad: 'same', dilations: 1, dataFormat: c.dataFormat};
        const start = {ids: webgl.numDataIds(), bytes: tf.memory().numBytesInGPU};
        const rng = new random.Random(200 + i);
        const x = tf.tensor(rng.values(c.xShape.reduce((a: number, b: number) => a * b)), c.xShape);
        const f1 = tf.tensor(rng.values(27 * channels * 4), [3, 3, 3, channels, 4]);
        const f2 = tf.tensor(rng.values(8 * 4 * 2), [2, 2, 2, 4, 2]);
        const g1 = geometry.conv3dGeometry(c.xShape, f1.shape, settings);
        const g2 = geometry.conv3dGeometry(g1.outShape, f2.shape, settings);
        const {out, values} = tf.tidy(() => {
          // Ours: conv3d, a tfjs op on its output, conv3d again, its transpose, a tfjs op.
          const y1 = tf.engine().makeTensorFromTensorInfo(driver.conv3d(webgl, info(x), info(f1), g1).out);
          const y1b = tf.mul(y1, 2);
          const y2 = tf.engine().makeTensorFromTensorInfo(driver.conv3d(webgl, info(y1b), info(f2), g2).out);
          const dx = tf.engine().makeTensorFromTensorInfo(driver.conv3dTranspose(webgl, info(y2), info(f2), g2).out);
          const result = tf.sum(tf.add(tf.slice(dx, [0, 0, 0, 0, 1]), 1), 0);
          return {out: result, values: [y1b.dataSync(), y2.dataSync(), dx.dataSync()]};
        });
        const ours = out.dataSync();
        out.dispose();
        // The same chain through tfjs's kernels (NDHWC, on webgl).
        const toLast = (t: any) => c.dataFormat === 'NCDHW' ? tf.transpose(t, [0, 2, 3, 4, 1]) : t;
        const toFirst = (t: any) => c.dataFormat === 'NCDHW' ? tf.transpose(t, [0, 4, 1, 2, 3]) : t;
        const expected = tf.tidy(() => {
          const y1b = tf.mul(tf.conv3d(toLast(x), f1, 1, 'same'), 2);
          const y2 = tf.conv3d(y1b, f2, 1, 'same');
          const dx = toFirst(tf.conv3dTranspose(y2, f2, y1b.shape, 1, 'same'));
          const result = tf.sum(tf.add(tf.slice(dx, [0, 0, 0, 0, 1]), 1), 0);
          return [toFirst(y1b).dataSync(), toFirst(y2).dataSync(), dx.dataSync(), result.dataSync()];
        });
        tf.dispose([x, f1, f2]);
        const end = {ids: webgl.numDataIds(), bytes: tf.memory().numBytesInGPU};
        results.push({
          errors: [...values, ours].map((v, j) => cases.relativeError(v, expected[j])),
          leaked: [end.ids - start.ids, end.bytes - start.bytes],
        });
      }
      return results;
    }, list);
    got.forEach((r, i) => {
      r.errors.forEach((e: number, j: number) => {
        if (!(e <= tolerance)) throw new Error(`case ${i}, value ${j}: error ${e}`);
      });
      expect(r.leaked).toEqual([0, 0]);
    });
  }, 120000);
});

describe('webgl driver: vol2col', () => {
  it('is the plain loop\'s patch matrix (NDHWC and NCDHW, batch 2, strides, dilations, pads)',
     async () => {
    const list = [
      {xShape: [2, 4, 5, 6, 3], filterShape: [2, 3, 2, 3, 1], strides: [1, 2, 1], pad: 'same',
       dilations: 1, dataFormat: 'NDHWC'},
      {xShape: [1, 5, 4, 5, 2], filterShape: [3, 2, 2, 2, 1], strides: 1, pad: 'valid',
       dilations: [2, 1, 2], dataFormat: 'NDHWC'},
      {xShape: [2, 3, 4, 5, 5], filterShape: [2, 2, 3, 3, 1], strides: 2, pad: 'same',
       dilations: 1, dataFormat: 'NCDHW'},
    ];
    const got = await page.run(({tf, driver3d, geometry, random}: any, cases: any[]) => {
      const webgl = tf.backend();
      return cases.map((c, i) => {
        const g = geometry.conv3dGeometry(c.xShape, c.filterShape, c);
        const values = new random.Random(100 + i).values(
            c.xShape.reduce((a: number, b: number) => a * b, 1));
        const start = {ids: webgl.numDataIds(), bytes: tf.memory().numBytesInGPU};
        const x = tf.tensor(values, c.xShape);
        const {out, workspaceBytes} = driver3d.webglDriver.vol2col(
            webgl, {dataId: x.dataId, shape: x.shape, dtype: x.dtype}, g);
        const shape = out.shape;
        const ours = webgl.readSync(out.dataId) as Float32Array;
        webgl.disposeIntermediateTensorInfo(out);
        x.dispose();
        const end = {ids: webgl.numDataIds(), bytes: tf.memory().numBytesInGPU};
        // The plain loop: one row per output position, taps in (kd, kh, kw, c) order.
        const {batchSize, inDepth, inHeight, inWidth, inChannels} = g;
        const at = (b: number, d: number, h: number, w: number, ch: number) =>
            c.dataFormat === 'NDHWC' ?
                (((b * inDepth + d) * inHeight + h) * inWidth + w) * inChannels + ch :
                (((b * inChannels + ch) * inDepth + d) * inHeight + h) * inWidth + w;
        const expected: number[] = [];
        for (let b = 0; b < batchSize; b++) {
          for (let od = 0; od < g.outDepth; od++) {
            for (let oh = 0; oh < g.outHeight; oh++) {
              for (let ow = 0; ow < g.outWidth; ow++) {
                for (let kd = 0; kd < g.filterDepth; kd++) {
                  for (let kh = 0; kh < g.filterHeight; kh++) {
                    for (let kw = 0; kw < g.filterWidth; kw++) {
                      for (let ch = 0; ch < inChannels; ch++) {
                        const d = od * g.strideDepth - g.padInfo.front + kd * g.dilationDepth;
                        const h = oh * g.strideHeight - g.padInfo.top + kh * g.dilationHeight;
                        const w = ow * g.strideWidth - g.padInfo.left + kw * g.dilationWidth;
                        const inside = d >= 0 && d < inDepth && h >= 0 && h < inHeight &&
                            w >= 0 && w < inWidth;
                        expected.push(inside ? values[at(b, d, h, w, ch)] : 0);
                      }
                    }
                  }
                }
              }
            }
          }
        }
        let mismatches = 0;
        expected.forEach((e, j) => { if (ours[j] !== e) mismatches++; });
        return {shape, expectedShape: [batchSize, g.outDepth * g.outHeight * g.outWidth,
                                       g.filterDepth * g.filterHeight * g.filterWidth * inChannels],
                length: ours.length, expectedLength: expected.length, mismatches, workspaceBytes,
                leakedDataIds: end.ids - start.ids, leakedBytes: end.bytes - start.bytes};
      });
    }, list);
    got.forEach(r => {
      expect(r.shape).toEqual(r.expectedShape);
      expect(r.length).toBe(r.expectedLength);
      expect(r.mismatches).toBe(0);
      expect(r.workspaceBytes).toBe(4 * r.expectedLength);
      expect([r.leakedDataIds, r.leakedBytes]).toEqual([0, 0]);
    });
  }, 120000);
});

describe('webgl driver: 3D errors', () => {
  it('a patch row larger than a texture throws, leaking nothing', async () => {
    const got = await page.run(({tf, driver3d, geometry}: any) => {
      const webgl = tf.backend();
      const x = tf.ones([1, 3, 3, 3, 16]);
      const filter = tf.ones([3, 3, 3, 16, 2]);
      const g = geometry.conv3dGeometry(x.shape, filter.shape,
          {strides: 1, pad: 'same', dilations: 1, dataFormat: 'NDHWC'});
      const dy = tf.ones(g.outShape);
      const info = (t: any) => ({dataId: t.dataId, shape: t.shape, dtype: t.dtype});
      const start = {ids: webgl.numDataIds(), bytes: tf.memory().numBytesInGPU};
      const maxSize = tf.env().getNumber('WEBGL_MAX_TEXTURE_SIZE');
      tf.env().set('WEBGL_MAX_TEXTURE_SIZE', 8);
      const messages: string[] = [];
      try {
        for (const run of [() => driver3d.webglDriver.conv3d(webgl, info(x), info(filter), g),
                           () => driver3d.webglDriver.conv3dTranspose(webgl, info(dy), info(filter), g)]) {
          try {
            run();
            messages.push('no error');
          } catch (error) {
            messages.push(String((error as Error).message));
          }
        }
      } finally {
        tf.env().set('WEBGL_MAX_TEXTURE_SIZE', maxSize);
      }
      const end = {ids: webgl.numDataIds(), bytes: tf.memory().numBytesInGPU};
      tf.dispose([x, filter, dy]);
      return {messages, leaked: [end.ids - start.ids, end.bytes - start.bytes]};
    });
    for (const message of got.messages) {
      expect(message).toMatch(/\(432 values\) does not fit a texture of 64 texels/);
    }
    expect(got.leaked).toEqual([0, 0]);
  }, 60000);

  it('a pass that throws at any point leaves no intermediate behind', async () => {
    const list: Conv3dCase[] = [
      CHUNKED_CASES[0], CHUNKED_CASES[5],
      variant(NDHWC_CASES, '1x1x1, odd width and channels (the 2D 1x1 convolution)',
              '1x1x1 (the 2D path), 1 KiB workspace', {IM2COL_WORKSPACE_BYTES: 1024}),
    ];
    const got = await page.run(({tf, driver3d, geometry, random}: any, cases: Conv3dCase[]) => {
      const webgl = tf.backend();
      const original = webgl.runWebGLProgram;
      const info = (t: any) => ({dataId: t.dataId, shape: t.shape, dtype: t.dtype});
      const results: Array<{name: string, calls: number, failures: number, leaks: number[][]}> = [];
      for (const c of cases) {
        const g = geometry.conv3dGeometry(c.xShape, c.filterShape, c);
        const rng = new random.Random(c.seed);
        const size = (shape: number[]) => shape.reduce((a, b) => a * b, 1);
        const x = tf.tensor(rng.values(size(c.xShape)), c.xShape);
        const filter = tf.tensor(rng.values(size(c.filterShape)), c.filterShape);
        const dy = tf.tensor(rng.values(size(g.outShape)), g.outShape);
        const budget = tf.env().get('IM2COL_WORKSPACE_BYTES');
        tf.env().set('IM2COL_WORKSPACE_BYTES', c.flags!.IM2COL_WORKSPACE_BYTES);
        const runs = [() => driver3d.webglDriver.conv3d(webgl, info(x), info(filter), g),
                      () => driver3d.webglDriver.conv3dTranspose(webgl, info(dy), info(filter), g)];
        let calls = 0;
        let failures = 0;
        const leaks: number[][] = [];
        try {
          for (const run of runs) {
            // Uploads the inputs (tfjs's encode passes), then counts the driver's passes.
            webgl.disposeIntermediateTensorInfo(run().out);
            let count = 0;
            webgl.runWebGLProgram = function(...args: unknown[]) {
              count++;
              return original.apply(this, args);
            };
            webgl.disposeIntermediateTensorInfo(run().out);
            calls += count;
            for (let failAt = 1; failAt <= count; failAt++) {
              let n = 0;
              webgl.runWebGLProgram = function(...args: unknown[]) {
                if (++n === failAt) throw new Error('injected');
                return original.apply(this, args);
              };
              const start = {ids: webgl.numDataIds(), bytes: tf.memory().numBytesInGPU};
              try {
                webgl.disposeIntermediateTensorInfo(run().out);
              } catch (error) {
                if ((error as Error).message === 'injected') failures++;
              }
              const end = {ids: webgl.numDataIds(), bytes: tf.memory().numBytesInGPU};
              if (end.ids !== start.ids || end.bytes !== start.bytes) {
                leaks.push([failAt, end.ids - start.ids, end.bytes - start.bytes]);
              }
            }
          }
        } finally {
          webgl.runWebGLProgram = original;
          tf.env().set('IM2COL_WORKSPACE_BYTES', budget);
          tf.dispose([x, filter, dy]);
        }
        results.push({name: c.name, calls, failures, leaks});
      }
      return results;
    }, list);
    got.forEach(r => {
      expect(r.calls).toBeGreaterThan(2);
      expect({name: r.name, failures: r.failures}).toEqual({name: r.name, failures: r.calls});
      expect({name: r.name, leaks: r.leaks}).toEqual({name: r.name, leaks: []});
    });
  }, 300000);
});

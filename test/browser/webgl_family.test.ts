/**
 * The webgl driver's grouped, depthwise and transposed convolutions, called directly
 * (webglDriver.conv / convTranspose on tfjs's webgl backend in headless Chromium) on seeded
 * random cases, against independent references on the same page's cpu backend:
 *   grouped     per-group tf.conv2d on channel slices, concatenated (tf.split / tf.concat)
 *   depthwise   tf.depthwiseConv2d; fused: tf.fused.depthwiseConv2d (NHWC), else the
 *               reference followed by tf's bias add and activation
 *   transposed  tf.conv2dTranspose (NHWC, one group, no dilation) and, for every case, a
 *               plain loop here (groups, NCHW, dilations)
 * tfjs refuses strides and dilations above 1 together: such references are the stride-1
 * dilated convolution with the strided case's padding, every stride-th output kept
 * (test/helpers/conv_cases.ts). Also: chunked runs under a small WEBGL_MAX_TEXTURE_SIZE and
 * IM2COL_WORKSPACE_BYTES, empty outputs, no tensor or GPU bytes left behind, also when a
 * GPU pass throws midway.
 */
import type * as tfc from '@tensorflow/tfjs-core';
import {axisPadding, outputSize} from '../helpers/conv_cases';
import {Random} from '../helpers/random';
import {PageGlobals, TfjsPage} from './tfjs_page';

const HELPERS = {cases: './test/helpers/conv_cases.ts', driver: './src/webgl/driver.ts',
                 geometry: './src/geometry/index.ts', engine: './src/engine/epilogue.ts'};

type Pad = 'valid' | 'same' | number |
    [[number, number], [number, number], [number, number], [number, number]];
type Activation = 'linear' | 'relu' | 'relu6' | 'elu' | 'sigmoid' | 'prelu' | 'leakyrelu';

interface FamilyCase {
  name: string;
  kind: 'grouped' | 'depthwise' | 'transpose';
  /** Transposed: whether the filter is a depthwise one ([kh, kw, inC, multiplier]). */
  depthwise?: boolean;
  /** The forward convolution's x (for a transposed one, the shape of its result). */
  xShape: number[];
  /** Grouped: [kh, kw, inC / groups, outC]; depthwise: [kh, kw, inC, multiplier]. */
  filterShape: number[];
  strides: [number, number];
  dilations: [number, number];
  pad: Pad;
  dataFormat: 'NHWC' | 'NCHW';
  /** A 1D convolution (height 1): x and the output go in and out as rank 3. */
  rank3?: boolean;
  /** x as a packed texture (the output of an earlier op). */
  packedInput?: boolean;
  activation?: Activation;
  leakyreluAlpha?: number;
  x: number[];
  filter: number[];
  /** Transposed: dy, of the forward convolution's output shape. */
  dy?: number[];
  dyShape?: number[];
  bias?: number[];
  prelu?: number[];
  /** Flags set around the call. */
  maxTextureSize?: number;
  workspaceBytes?: number;
}

interface CaseResult {
  name: string;
  shape: number[];
  values: number[];
  /** The first run's (which uploads the inputs; later runs may read them differently). */
  firstValues: number[];
  /** tfjs's answer (null where the plain loop here is the only reference). */
  reference: number[] | null;
  referenceShape: number[] | null;
  workspaceBytes: number;
  leakedTensors: number;
  leakedBytes: number;
}

const size = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

/** Spatial sizes, channels, groups, pads and output size of a case, worked out here. */
function describeCase(c: FamilyCase) {
  const nhwc = c.dataFormat === 'NHWC';
  const [batch, inH, inW, inC] = nhwc ? c.xShape : [c.xShape[0], c.xShape[2], c.xShape[3], c.xShape[1]];
  const [kh, kw] = c.filterShape;
  const depthwise = c.kind === 'depthwise' || c.depthwise === true;
  const outC = depthwise ? c.filterShape[2] * c.filterShape[3] : c.filterShape[3];
  const groupIn = depthwise ? 1 : c.filterShape[2];
  const groups = inC / groupIn;
  const sizes = [inH, inW];
  const pads = [0, 1].map(axis => axisPadding(c.pad, axis as 0 | 1, sizes[axis],
      c.dilations[axis] * (c.filterShape[axis] - 1) + 1, c.strides[axis], c.dataFormat));
  const outs = [0, 1].map(axis => outputSize(sizes[axis], c.filterShape[axis], c.strides[axis],
      c.dilations[axis], pads[axis], c.pad));
  const [outH, outW] = outs.map(o => Math.max(0, o));
  return {nhwc, batch, inH, inW, inC, kh, kw, outC, groupIn, groupOut: outC / groups, groups,
          pads, outH, outW,
          outShape: nhwc ? [batch, outH, outW, outC] : [batch, outC, outH, outW]};
}

/** Makes a case: shapes and settings as given, seeded values. */
function makeCase(rng: Random, c: Omit<FamilyCase, 'x' | 'filter'>): FamilyCase {
  const values = (n: number) => Array.from(rng.values(n));
  const full = {...c, x: values(size(c.xShape)), filter: values(size(c.filterShape))} as FamilyCase;
  const d = describeCase(full);
  if (c.kind === 'transpose') {
    full.dyShape = d.outShape;
    full.dy = values(size(d.outShape));
  }
  if (c.activation != null) full.bias = values(d.outC);
  if (c.activation === 'prelu') full.prelu = values(d.outC);
  return full;
}

/** The transposed convolution by its definition: dy scattered through the filter taps. */
function naiveTranspose(c: FamilyCase): number[] {
  const d = describeCase(c);
  const dx = new Float64Array(size(c.xShape));
  const xAt = (b: number, y: number, x: number, ch: number) => d.nhwc ?
      ((b * d.inH + y) * d.inW + x) * d.inC + ch : ((b * d.inC + ch) * d.inH + y) * d.inW + x;
  const dyAt = (b: number, y: number, x: number, o: number) => d.nhwc ?
      ((b * d.outH + y) * d.outW + x) * d.outC + o : ((b * d.outC + o) * d.outH + y) * d.outW + x;
  // The filter as [kh, kw, groupIn, outC] (a depthwise one has the same values in that order).
  const wAt = (i: number, j: number, cl: number, o: number) =>
      ((i * d.kw + j) * d.groupIn + cl) * d.outC + o;
  const dy = c.dy as number[];
  for (let b = 0; b < d.batch; b++) {
    for (let oy = 0; oy < d.outH; oy++) {
      for (let ox = 0; ox < d.outW; ox++) {
        for (let i = 0; i < d.kh; i++) {
          const y = oy * c.strides[0] - d.pads[0][0] + i * c.dilations[0];
          if (y < 0 || y >= d.inH) continue;
          for (let j = 0; j < d.kw; j++) {
            const x = ox * c.strides[1] - d.pads[1][0] + j * c.dilations[1];
            if (x < 0 || x >= d.inW) continue;
            for (let o = 0; o < d.outC; o++) {
              const gi = Math.floor(o / d.groupOut);
              const v = dy[dyAt(b, oy, ox, o)];
              for (let cl = 0; cl < d.groupIn; cl++) {
                dx[xAt(b, y, x, gi * d.groupIn + cl)] += v * c.filter[wAt(i, j, cl, o)];
              }
            }
          }
        }
      }
    }
  }
  return Array.from(dx);
}

/** Largest |a - b| relative to the reference's largest magnitude (at least 1). */
function relativeError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  let scale = 1;
  for (let i = 0; i < expected.length; i++) scale = Math.max(scale, Math.abs(expected[i]));
  let worst = actual.length === expected.length ? 0 : Infinity;
  for (let i = 0; i < expected.length; i++) {
    const err = Math.abs(actual[i] - expected[i]) / scale;
    worst = Math.max(worst, Number.isNaN(err) ? Infinity : err);
  }
  return worst;
}

/**
 * Page side: each case through the driver on webgl (twice: the first uploads the inputs, the
 * second must leave the memory as it found it) and tfjs's reference on the cpu backend.
 */
async function runFamily(globals: PageGlobals, list: FamilyCase[]): Promise<CaseResult[]> {
  const {tf, driver, geometry, engine, cases} = globals;
  const results: CaseResult[] = [];
  for (const c of list) {
    const nhwc = c.dataFormat === 'NHWC';
    const channelAxis = nhwc ? 3 : 1;
    const settings = {strides: c.strides, pad: c.pad, dataFormat: c.dataFormat,
                      dilations: c.dilations};
    const depthwise = c.kind === 'depthwise' || c.depthwise === true;
    const g = depthwise ? geometry.depthwiseGeometry(c.xShape, c.filterShape, settings) :
                          geometry.conv2dGeometry(c.xShape, c.filterShape, settings);
    const outC = g.outChannels;
    const groups = g.groups;
    const squeeze = (shape: number[]) => nhwc ? [shape[0], shape[2], shape[3]] :
                                                [shape[0], shape[1], shape[3]];

    // The reference, on the cpu backend.
    tf.setBackend('cpu');
    // tf.conv2dTranspose: channels last, one group, no dilation, 'same' or 'valid' only.
    const hasReference = c.kind !== 'transpose' || nhwc && groups === 1 &&
        Math.max(...c.dilations) === 1 && typeof c.pad === 'string';
    const reference = !hasReference ? null : tf.tidy((): tfc.Tensor => {
      const x = tf.tensor4d(c.x, c.xShape as [number, number, number, number]);
      const filter = tf.tensor4d(c.filter, c.filterShape as [number, number, number, number]);
      const toNhwc = (t: tfc.Tensor4D) => nhwc ? t : tf.transpose(t, [0, 2, 3, 1]);
      const fromNhwc = (t: tfc.Tensor4D) => nhwc ? t : tf.transpose(t, [0, 3, 1, 2]);
      const stridedAndDilated = Math.max(...c.strides) > 1 && Math.max(...c.dilations) > 1;
      const sizes = [g.inHeight, g.inWidth];
      const pads = [0, 1].map(axis => cases.axisPadding(c.pad, axis, sizes[axis],
          c.dilations[axis] * (c.filterShape[axis] - 1) + 1, c.strides[axis], c.dataFormat));
      const explicit = [[0, 0], pads[0], pads[1], [0, 0]] as
          [[number, number], [number, number], [number, number], [number, number]];
      if (c.kind === 'transpose') {
        const dy = tf.tensor4d(c.dy as number[], c.dyShape as [number, number, number, number]);
        return tf.conv2dTranspose(dy, filter, c.xShape as [number, number, number, number],
                                  c.strides, c.pad as 'same' | 'valid');
      }
      let out: tfc.Tensor4D;
      if (c.kind === 'grouped') {
        const xs = tf.split(x, groups, channelAxis);
        const filters = tf.split(filter, groups, 3);
        out = tf.concat(xs.map((xg, i) => cases.referenceConv2d(tf, {
          kind: 'conv2d', xShape: xg.shape, filterShape: filters[i].shape, strides: c.strides,
          dilations: c.dilations, pad: c.pad, dataFormat: c.dataFormat,
          x: Array.from(xg.dataSync()), filter: Array.from(filters[i].dataSync())
        })), channelAxis) as tfc.Tensor4D;
      } else {
        // tf.fused.depthwiseConv2d: channels last, 'same' or 'valid' pads only.
        const fusedReference = nhwc && !stridedAndDilated && c.activation != null &&
            typeof c.pad === 'string';
        if (fusedReference) {
          return tf.fused.depthwiseConv2d({
            x, filter, strides: c.strides, pad: c.pad as 'same' | 'valid', dataFormat: 'NHWC',
            dilations: c.dilations, bias: tf.tensor1d(c.bias as number[]),
            activation: c.activation,
            preluActivationWeights: c.prelu ? tf.tensor1d(c.prelu) : undefined,
            leakyreluAlpha: c.leakyreluAlpha
          });
        }
        if (!stridedAndDilated) {
          out = fromNhwc(tf.depthwiseConv2d(toNhwc(x), filter, c.strides, explicit, 'NHWC',
                                            c.dilations));
        } else {
          const dense = tf.depthwiseConv2d(toNhwc(x), filter, 1, explicit, 'NHWC', c.dilations);
          const [batch, , , channels] = dense.shape;
          out = fromNhwc(tf.stridedSlice(dense, [0, 0, 0, 0],
              [batch, g.outHeight * c.strides[0], g.outWidth * c.strides[1], channels],
              [1, c.strides[0], c.strides[1], 1]) as tfc.Tensor4D);
        }
      }
      if (c.activation == null) return out;
      const operand = (values: number[]) =>
          tf.reshape(tf.tensor1d(values), nhwc ? [outC] : [outC, 1, 1]);
      const biased = tf.add(out, operand(c.bias as number[]));
      switch (c.activation) {
        case 'linear': return biased;
        case 'relu': return tf.relu(biased);
        case 'relu6': return tf.relu6(biased);
        case 'elu': return tf.elu(biased);
        case 'sigmoid': return tf.sigmoid(biased);
        case 'prelu': return tf.prelu(biased, operand(c.prelu as number[]));
        case 'leakyrelu': return tf.leakyRelu(biased, c.leakyreluAlpha ?? 0.2);
      }
    });
    const referenceValues = reference == null ? null : Array.from(reference.dataSync() as Float32Array);
    const referenceShape = reference == null ? null : reference.shape;
    reference?.dispose();
    tf.setBackend('webgl');

    // Ours, on webgl.
    const backend = tf.backend() as any;  // eslint-disable-line @typescript-eslint/no-explicit-any
    const x0 = tf.tensor(c.x, c.rank3 ? squeeze(c.xShape) : c.xShape);
    const cpuForward = tf.env().getBool('WEBGL_CPU_FORWARD');
    tf.env().set('WEBGL_CPU_FORWARD', false);
    const x = c.packedInput ? tf.add(x0, tf.scalar(0)) : x0;
    tf.env().set('WEBGL_CPU_FORWARD', cpuForward);
    const filter = tf.tensor(c.filter, c.filterShape);
    const dy = c.dy == null ? null : tf.tensor(c.dy, c.dyShape as number[]);
    const bias = c.bias == null ? null : tf.tensor1d(c.bias);
    const prelu = c.prelu == null ? null : tf.tensor1d(c.prelu);
    const epilogue = c.activation == null ? null : engine.epilogueOf(
        {bias, preluActivationWeights: prelu},
        {activation: c.activation, leakyreluAlpha: c.leakyreluAlpha, dataFormat: c.dataFormat});
    const outShape = c.rank3 ? squeeze(g.outShape) : g.outShape;
    const saved = {max: tf.env().getNumber('WEBGL_MAX_TEXTURE_SIZE'),
                   budget: tf.env().getNumber('IM2COL_WORKSPACE_BYTES')};
    const run = () => {
      if (c.maxTextureSize != null) tf.env().set('WEBGL_MAX_TEXTURE_SIZE', c.maxTextureSize);
      if (c.workspaceBytes != null) tf.env().set('IM2COL_WORKSPACE_BYTES', c.workspaceBytes);
      try {
        const {out, workspaceBytes} = c.kind === 'transpose' ?
            driver.webglDriver.convTranspose(backend, dy, filter, g) :
            driver.webglDriver.conv(backend, x, filter, g, outShape, epilogue);
        const values = Array.from(backend.readSync(out.dataId) as Float32Array);
        backend.disposeIntermediateTensorInfo(out);
        return {values, shape: out.shape as number[], workspaceBytes: workspaceBytes as number};
      } finally {
        tf.env().set('WEBGL_MAX_TEXTURE_SIZE', saved.max);
        tf.env().set('IM2COL_WORKSPACE_BYTES', saved.budget);
      }
    };
    const first = run();
    const start = tf.memory() as unknown as {numTensors: number, numBytesInGPU: number};
    const ours = run();
    const end = tf.memory() as unknown as {numTensors: number, numBytesInGPU: number};
    tf.dispose([x0, x, filter, ...[dy, bias, prelu].filter(t => t != null)] as tfc.Tensor[]);
    results.push({
      name: c.name, shape: ours.shape, values: ours.values, firstValues: first.values,
      reference: referenceValues,
      referenceShape: referenceShape && (c.rank3 ? squeeze(referenceShape) : referenceShape),
      workspaceBytes: ours.workspaceBytes,
      leakedTensors: end.numTensors - start.numTensors,
      leakedBytes: end.numBytesInGPU - start.numBytesInGPU,
    });
  }
  return results;
}

let page: TfjsPage;
let tolerance = 1e-4;

beforeAll(async () => {
  ({page, tolerance} = await TfjsPage.openOnWebgl(HELPERS));
}, 180000);

afterAll(async () => {
  await page?.close();
});

/** Runs the cases in the page and checks shapes, values, workspace bounds and leaks. */
async function check(cases: FamilyCase[]): Promise<CaseResult[]> {
  const results: CaseResult[] = [];
  for (let i = 0; i < cases.length; i += 12) {
    results.push(...await page.run(runFamily, cases.slice(i, i + 12)));
  }
  results.forEach((r, i) => {
    const c = cases[i];
    const d = describeCase(c);
    const expectedShape = c.kind === 'transpose' ? (c.rank3 ? null : c.xShape) :
        c.rank3 ? (d.nhwc ? [d.batch, d.outW, d.outC] : [d.batch, d.outC, d.outW]) : d.outShape;
    expect({name: r.name, shape: r.shape}).toEqual({name: c.name, shape: expectedShape});
    if (r.referenceShape != null) {
      expect({name: r.name, shape: r.referenceShape}).toEqual({name: c.name, shape: expectedShape});
    }
    const errors: Record<string, number> = {};
    if (r.reference != null) errors.tfjs = relativeError(r.values, r.reference);
    if (c.kind === 'transpose') errors.loop = relativeError(r.values, naiveTranspose(c));
    errors['first run'] = relativeError(r.firstValues, r.values);
    expect(Object.keys(errors).length).toBeGreaterThan(1);
    for (const [against, error] of Object.entries(errors)) {
      if (!(error <= tolerance)) {
        throw new Error(`${c.name}: relative error ${error} against the ${against} reference`);
      }
    }
    expect({name: r.name, leakedTensors: r.leakedTensors, leakedBytes: r.leakedBytes})
        .toEqual({name: c.name, leakedTensors: 0, leakedBytes: 0});
    if (c.workspaceBytes != null) expect(r.workspaceBytes).toBeLessThanOrEqual(c.workspaceBytes);
    if (c.maxTextureSize != null) {
      expect(r.workspaceBytes).toBeLessThanOrEqual(16 * c.maxTextureSize ** 2);
    }
  });
  return results;
}

const explicit = (t: number, b: number, l: number, r: number, format: 'NHWC' | 'NCHW'): Pad =>
    format === 'NHWC' ? [[0, 0], [t, b], [l, r], [0, 0]] : [[0, 0], [0, 0], [t, b], [l, r]];

const base = {strides: [1, 1] as [number, number], dilations: [1, 1] as [number, number],
              pad: 'same' as Pad, dataFormat: 'NHWC' as const};

describe('webgl grouped convolutions', () => {
  it('match per-group tf.conv2d, concatenated', async () => {
    const rng = new Random(101);
    const cases = [
      {name: 'groups 4, 2 in / 3 out per group', xShape: [2, 9, 11, 8], filterShape: [3, 3, 2, 12]},
      {name: 'groups 3, 4 in / 2 out', xShape: [1, 10, 10, 12], filterShape: [3, 3, 4, 6],
       pad: 'valid' as Pad},
      {name: 'groups 2, 4 in / 4 out, stride 2', xShape: [2, 7, 9, 8], filterShape: [3, 2, 4, 8],
       strides: [2, 2] as [number, number]},
      {name: 'NCHW groups 3, stride 2 dilation 2, explicit pads', xShape: [2, 6, 9, 7],
       filterShape: [3, 3, 2, 9], strides: [2, 2] as [number, number],
       dilations: [2, 2] as [number, number], pad: explicit(1, 2, 0, 3, 'NCHW'),
       dataFormat: 'NCHW' as const},
      {name: 'odd groups: 3 in / 2 out, stride [2, 1]', xShape: [1, 7, 8, 9],
       filterShape: [2, 3, 3, 6], strides: [2, 1] as [number, number], pad: 'valid' as Pad},
      {name: 'NCHW odd groups: 5 in / 2 out, pad 1', xShape: [1, 15, 5, 5],
       filterShape: [3, 3, 5, 6], pad: 1 as Pad, dataFormat: 'NCHW' as const},
      {name: 'NCHW 3 in / 3 out, odd width', xShape: [2, 6, 5, 7], filterShape: [2, 2, 3, 6],
       dataFormat: 'NCHW' as const},
      {name: '1x1, 1 in / 3 out', xShape: [1, 5, 6, 4], filterShape: [1, 1, 1, 12]},
      {name: '1x1 packed input read as the patch matrix', xShape: [1, 6, 6, 8],
       filterShape: [1, 1, 4, 8], packedInput: true, pad: 'valid' as Pad},
      {name: 'groups 2, dilation [2, 3], explicit pads', xShape: [1, 9, 10, 6],
       filterShape: [3, 2, 3, 4], dilations: [2, 3] as [number, number],
       pad: explicit(2, 0, 1, 1, 'NHWC')},
      {name: '1D NWC groups 2', xShape: [2, 1, 13, 6], filterShape: [1, 3, 3, 4], rank3: true},
      {name: '1D NCW groups 3', xShape: [2, 6, 1, 11], filterShape: [1, 3, 2, 6], rank3: true,
       dataFormat: 'NCHW' as const, strides: [1, 2] as [number, number]},
      {name: 'empty output', xShape: [1, 2, 2, 4], filterShape: [3, 3, 2, 4], pad: 'valid' as Pad},
      {name: 'empty batch', xShape: [0, 4, 4, 4], filterShape: [3, 3, 2, 4]},
      {name: 'groups 1 (the plain path)', xShape: [2, 7, 6, 3], filterShape: [3, 3, 3, 5]},
    ].map(c => makeCase(rng, {...base, kind: 'grouped', ...c}));
    await check(cases);
  }, 600000);

  it('apply the fused epilogue as the plain path does', async () => {
    const rng = new Random(102);
    const activations: Activation[] = ['relu', 'relu6', 'elu', 'sigmoid', 'prelu', 'leakyrelu', 'linear'];
    const cases = activations.map((activation, i) => makeCase(rng, {
      ...base, kind: 'grouped', name: `${activation}, ${i % 2 ? 'NCHW' : 'NHWC'}`, activation,
      leakyreluAlpha: activation === 'leakyrelu' ? 0.3 : undefined,
      xShape: i % 2 ? [2, 6, 5, 7] : [2, 5, 7, 6], filterShape: [3, 3, 2, 9],
      dataFormat: i % 2 ? 'NCHW' : 'NHWC', strides: [1 + i % 2, 1] as [number, number],
    }));
    await check(cases);
  }, 600000);
});

describe('webgl depthwise convolutions', () => {
  it('match tf.depthwiseConv2d', async () => {
    const rng = new Random(201);
    const cases = [
      {name: 'multiplier 1', xShape: [2, 9, 10, 6], filterShape: [3, 3, 6, 1]},
      {name: 'multiplier 3, stride 2 dilation 2, explicit pads', xShape: [1, 8, 7, 4],
       filterShape: [3, 3, 4, 3], strides: [2, 2] as [number, number],
       dilations: [2, 2] as [number, number], pad: explicit(1, 2, 2, 0, 'NHWC')},
      {name: 'NCHW stride 2', xShape: [2, 5, 9, 8], filterShape: [3, 3, 5, 1],
       strides: [2, 2] as [number, number], dataFormat: 'NCHW' as const},
      {name: 'NCHW multiplier 3, dilation [2, 1], pad 1', xShape: [1, 3, 7, 6],
       filterShape: [2, 3, 3, 3], dilations: [2, 1] as [number, number], pad: 1 as Pad,
       dataFormat: 'NCHW' as const},
      {name: 'odd channels, 5x5 valid', xShape: [1, 6, 7, 5], filterShape: [5, 5, 5, 1],
       pad: 'valid' as Pad},
      {name: 'multiplier 2, stride [1, 2]', xShape: [2, 5, 8, 3], filterShape: [3, 3, 3, 2],
       strides: [1, 2] as [number, number]},
      {name: 'stride 1, odd pad and width', xShape: [1, 6, 9, 4], filterShape: [2, 4, 4, 1],
       pad: explicit(0, 1, 3, 0, 'NHWC')},
      {name: 'NCHW stride 3, dilation 2', xShape: [1, 4, 11, 10], filterShape: [3, 3, 4, 1],
       strides: [3, 3] as [number, number], dilations: [2, 2] as [number, number],
       dataFormat: 'NCHW' as const},
      {name: 'packed input', xShape: [1, 6, 8, 6], filterShape: [3, 3, 6, 1], packedInput: true},
      {name: '1D NWC multiplier 2', xShape: [2, 1, 12, 4], filterShape: [1, 3, 4, 2], rank3: true},
      {name: '1D NCW', xShape: [2, 5, 1, 9], filterShape: [1, 3, 5, 1], rank3: true,
       dataFormat: 'NCHW' as const},
      {name: 'empty output', xShape: [1, 2, 3, 4], filterShape: [3, 3, 4, 1], pad: 'valid' as Pad},
      {name: 'big texture limit unused (no workspace)', xShape: [1, 12, 12, 8],
       filterShape: [3, 3, 8, 1], workspaceBytes: 64},
    ].map(c => makeCase(rng, {...base, kind: 'depthwise', ...c}));
    const results = await check(cases);
    results.forEach(r => expect(r.workspaceBytes).toBe(0));
  }, 600000);

  it('fused: match tf.fused.depthwiseConv2d (NHWC) and tf ops (NCHW)', async () => {
    const rng = new Random(202);
    const activations: Activation[] = ['relu', 'relu6', 'prelu', 'leakyrelu', 'elu', 'sigmoid', 'linear'];
    const cases = activations.map((activation, i) => makeCase(rng, {
      ...base, kind: 'depthwise', name: `${activation}, ${i % 3 === 2 ? 'NCHW' : 'NHWC'}`,
      activation, leakyreluAlpha: activation === 'leakyrelu' ? 0.3 : undefined,
      xShape: i % 3 === 2 ? [1, 6, 7, 8] : [1, 8, 7, 6],
      filterShape: [3, 3, 6, 1 + i % 2], dataFormat: i % 3 === 2 ? 'NCHW' : 'NHWC',
      strides: [1 + (i % 2), 1 + (i % 2)] as [number, number],
    }));
    await check(cases);
  }, 600000);
});

describe('webgl transposed convolutions', () => {
  it('match tf.conv2dTranspose and the plain loop', async () => {
    const rng = new Random(301);
    const cases = [
      {name: 'stride 2 same', xShape: [2, 9, 8, 6], filterShape: [3, 3, 6, 4],
       strides: [2, 2] as [number, number]},
      {name: 'odd inC, stride 2 valid', xShape: [1, 7, 7, 3], filterShape: [3, 3, 3, 8],
       strides: [2, 2] as [number, number], pad: 'valid' as Pad},
      {name: 'odd outC, 2x2 stride 2, explicit pads', xShape: [1, 8, 6, 4],
       filterShape: [2, 2, 4, 5], strides: [2, 2] as [number, number],
       pad: explicit(1, 0, 0, 1, 'NHWC')},
      {name: '5x5 stride 2', xShape: [1, 10, 10, 8], filterShape: [5, 5, 8, 6],
       strides: [2, 2] as [number, number]},
      {name: 'NCHW stride [2, 1], pad 1', xShape: [1, 4, 8, 9], filterShape: [3, 3, 4, 6],
       strides: [2, 1] as [number, number], pad: 1 as Pad, dataFormat: 'NCHW' as const},
      {name: 'NCHW stride 2 dilation 2', xShape: [2, 4, 11, 10], filterShape: [3, 3, 4, 4],
       strides: [2, 2] as [number, number], dilations: [2, 2] as [number, number],
       dataFormat: 'NCHW' as const},
      {name: 'dilation [1, 2], odd sizes', xShape: [1, 7, 9, 5], filterShape: [3, 2, 5, 3],
       dilations: [1, 2] as [number, number]},
      {name: 'grouped 2 in / 3 out', xShape: [2, 6, 7, 8], filterShape: [3, 3, 2, 12],
       strides: [2, 2] as [number, number]},
      {name: 'grouped 4 in / 2 out', xShape: [1, 8, 8, 8], filterShape: [3, 3, 4, 4]},
      {name: 'NCHW grouped 2 in / 3 out, stride 2 dilation 2', xShape: [1, 6, 9, 7],
       filterShape: [3, 2, 2, 9], strides: [2, 2] as [number, number],
       dilations: [2, 2] as [number, number], dataFormat: 'NCHW' as const,
       pad: explicit(2, 1, 0, 1, 'NCHW')},
      {name: 'grouped 3 in / 2 out', xShape: [1, 5, 6, 9], filterShape: [2, 3, 3, 6],
       strides: [1, 2] as [number, number], pad: 'valid' as Pad},
      {name: 'depthwise multiplier 1, stride 2', xShape: [1, 9, 9, 6], filterShape: [3, 3, 6, 1],
       strides: [2, 2] as [number, number], depthwise: true},
      {name: 'NCHW depthwise multiplier 3, dilation 2', xShape: [2, 4, 7, 6],
       filterShape: [3, 3, 4, 3], dilations: [2, 2] as [number, number],
       dataFormat: 'NCHW' as const, depthwise: true},
      {name: 'depthwise multiplier 3, stride 2 dilation 2', xShape: [1, 9, 8, 5],
       filterShape: [3, 3, 5, 3], strides: [2, 2] as [number, number],
       dilations: [2, 2] as [number, number], depthwise: true},
      {name: 'empty dy (output positions 0)', xShape: [1, 2, 2, 4], filterShape: [3, 3, 4, 2],
       pad: 'valid' as Pad},
      {name: 'empty image', xShape: [0, 3, 3, 2], filterShape: [3, 3, 2, 2]},
    ].map(c => makeCase(rng, {...base, kind: 'transpose', ...c}));
    const results = await check(cases);
    // Depthwise ones are one direct pass.
    results.filter((_, i) => cases[i].depthwise).forEach(r => expect(r.workspaceBytes).toBe(0));
  }, 600000);
});

describe('chunks under small limits', () => {
  const limits = (name: string, flags: {maxTextureSize?: number, workspaceBytes?: number}) => {
    const rng = new Random(401);
    return [
      {kind: 'grouped' as const, name: 'grouped, 2 in / 3 out', xShape: [2, 18, 20, 8],
       filterShape: [3, 3, 2, 12]},
      {kind: 'grouped' as const, name: 'grouped NCHW, fused relu', xShape: [2, 8, 14, 15],
       filterShape: [3, 3, 4, 6], dataFormat: 'NCHW' as const, activation: 'relu' as const},
      {kind: 'grouped' as const, name: 'grouped odd, stride 2', xShape: [1, 15, 17, 9],
       filterShape: [3, 3, 3, 6], strides: [2, 2] as [number, number]},
      {kind: 'depthwise' as const, name: 'depthwise', xShape: [2, 18, 20, 8],
       filterShape: [3, 3, 8, 1]},
      {kind: 'transpose' as const, name: 'transposed', xShape: [2, 18, 20, 8],
       filterShape: [3, 3, 8, 6], strides: [1, 2] as [number, number]},
      {kind: 'transpose' as const, name: 'transposed NCHW grouped', xShape: [2, 8, 15, 14],
       filterShape: [3, 3, 4, 6], dataFormat: 'NCHW' as const},
      {kind: 'transpose' as const, name: 'transposed depthwise', xShape: [1, 17, 16, 6],
       filterShape: [3, 3, 6, 2], depthwise: true},
    ].map(c => makeCase(rng, {...base, ...c, ...flags, name: `${c.name}, ${name}`}));
  };

  it('WEBGL_MAX_TEXTURE_SIZE 64: several chunks, the same results', async () => {
    const results = await check(limits('max texture 64', {maxTextureSize: 64}));
    // The chunked ones used a patch texture within the limit (checked in `check`).
    expect(results.filter(r => r.workspaceBytes > 0).length).toBeGreaterThan(3);
  }, 600000);

  it('IM2COL_WORKSPACE_BYTES 2 KiB: rows and column ranges, the same results', async () => {
    await check(limits('workspace 2 KiB', {workspaceBytes: 2048}));
  }, 600000);
});

describe('intermediates', () => {
  it('a pass that throws midway leaves no tensor or texture behind', async () => {
    const got = await page.run(({tf, driver, geometry, engine}) => {
      const backend = tf.backend() as any;  // eslint-disable-line @typescript-eslint/no-explicit-any
      const settings = {strides: [1, 1], pad: 'same', dataFormat: 'NHWC', dilations: [1, 1]};
      const x = tf.randomUniform([2, 12, 12, 8], -1, 1, 'float32', 1);
      const grouped = tf.randomUniform([3, 3, 4, 6], -1, 1, 'float32', 2);
      const bias = tf.randomUniform([6], -1, 1, 'float32', 3);
      const dy = tf.randomUniform([2, 12, 12, 6], -1, 1, 'float32', 4);
      const depthwise = tf.randomUniform([3, 3, 8, 2], -1, 1, 'float32', 5);
      const dyDepthwise = tf.randomUniform([2, 12, 12, 16], -1, 1, 'float32', 7);
      const g = geometry.conv2dGeometry(x.shape, grouped.shape, settings);
      const gd = geometry.depthwiseGeometry(x.shape, depthwise.shape, settings);
      const depthwiseEpilogue = engine.epilogueOf(
          {bias: tf.randomUniform([16], -1, 1, 'float32', 6)},
          {activation: 'leakyrelu', leakyreluAlpha: 0.1, dataFormat: 'NHWC'});
      const epilogue = engine.epilogueOf({bias}, {activation: 'leakyrelu', leakyreluAlpha: 0.1,
                                                  dataFormat: 'NHWC'});
      const calls = [
        () => driver.webglDriver.conv(backend, x, grouped, g, g.outShape, epilogue),
        () => driver.webglDriver.convTranspose(backend, dy, grouped, g),
        () => driver.webglDriver.conv(backend, x, depthwise, gd, gd.outShape, depthwiseEpilogue),
        () => driver.webglDriver.convTranspose(backend, dyDepthwise, depthwise, gd),
      ];
      // This package's passes (tfjs's own, e.g. the upload of a CPU tensor, are left alone).
      const ours = new Set(['Im2colPackedProgram', 'GemmPackedProgram', 'GroupedGemmPackedProgram',
                            'FilterMatrixPackedProgram', 'DepthwisePackedProgram',
                            'PatchGradientPackedProgram', 'Col2imPackedProgram',
                            'DepthwiseTransposePackedProgram']);
      const budget = tf.env().getNumber('IM2COL_WORKSPACE_BYTES');
      const original = backend.runWebGLProgram;
      const outcomes: Array<{call: number, failAt: number, threw: boolean, leakedBytes: number,
                             leakedTensors: number}> = [];
      tf.env().set('IM2COL_WORKSPACE_BYTES', 16 * 1024);
      try {
        calls.forEach((call, i) => {
          // The first call uploads x, the filter and dy (the filter packed: later calls read
          // it as the filter matrix); the second counts the passes.
          backend.disposeIntermediateTensorInfo(call().out);
          let passes = 0;
          backend.runWebGLProgram = function(...args: Array<{constructor: {name: string}}>) {
            if (ours.has(args[0].constructor.name)) passes++;
            return original.apply(this, args);
          };
          backend.disposeIntermediateTensorInfo(call().out);
          for (let failAt = 1; failAt <= passes; failAt++) {
            let n = 0;
            backend.runWebGLProgram = function(...args: Array<{constructor: {name: string}}>) {
              if (ours.has(args[0].constructor.name) && ++n === failAt) throw new Error('injected');
              return original.apply(this, args);
            };
            const start = tf.memory() as unknown as {numTensors: number, numBytesInGPU: number};
            let threw = false;
            try {
              backend.disposeIntermediateTensorInfo(call().out);
            } catch (error) {
              threw = String(error).includes('injected');
            }
            const end = tf.memory() as unknown as {numTensors: number, numBytesInGPU: number};
            outcomes.push({call: i, failAt, threw, leakedBytes: end.numBytesInGPU - start.numBytesInGPU,
                           leakedTensors: end.numTensors - start.numTensors});
          }
        });
      } finally {
        backend.runWebGLProgram = original;
        tf.env().set('IM2COL_WORKSPACE_BYTES', budget);
        tf.dispose([x, grouped, bias, dy, depthwise, dyDepthwise, depthwiseEpilogue.bias.tensor]);
      }
      return outcomes;
    });
    expect(got.filter(o => o.call === 0).length).toBeGreaterThan(3);
    expect(got.filter(o => o.call === 1).length).toBeGreaterThan(3);
    expect(got.filter(o => o.call === 2).length).toBe(1);
    expect(got.filter(o => o.call === 3).length).toBe(1);
    got.forEach(o => expect(o).toEqual({...o, threw: true, leakedBytes: 0, leakedTensors: 0}));
  }, 600000);
});

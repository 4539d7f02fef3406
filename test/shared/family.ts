/**
 * The convolution family's bodies: each op (grouped conv2d, depthwise, fused depthwise,
 * transposed, 3D) over a seeded random sweep against references from tfjs's own ops
 * (test/helpers/family_cases.ts), computed on the reference backend; their gradients
 * against the references' tfjs gradients; the stand-ins useIm2col swaps in, against stock
 * tfjs; and the filter-gradient kernels (2D stand-ins, the 3D kernel) over a sweep, against
 * tfjs's own.
 */
import {FamilyCase, familyCases, FamilyOp, referenceFamily, referenceOp} from '../helpers/family_cases';
import {relativeError} from '../helpers/conv_cases';
import {Random} from '../helpers/random';
import {label, Lib, memory, onBackend, Tensor, Tf} from './types';

export interface FamilyArg {
  op: FamilyOp;
  seed: number;
  from: number;
  to: number;
  /** Where the references run (default cpu). */
  referenceBackend?: string;
  /** IM2COL_WORKSPACE_BYTES while the op runs (the default budget where absent). */
  workspaceBytes?: number;
}

export interface FamilyResult {
  index: number;
  label: string;
  shape: number[];
  expectedShape: number[];
  error: number;
  leakedTensors: number;
  leakedBytes: number;
  /** The largest patch workspace the op's kernels used, in bytes. */
  peakWorkspaceBytes: number;
}

/** The op of a case on this package's API. */
export function runFamilyOp(lib: Lib, tf: Tf, c: FamilyCase, x: Tensor, filter: Tensor): Tensor {
  const [strides, dilations] = [c.strides, c.dilations] as never[];
  switch (c.op) {
    case 'grouped':
      return lib.im2colConv2d(x as never, filter as never, strides, c.pad, c.dataFormat as never, dilations);
    case 'depthwise':
      return lib.im2colDepthwiseConv2d(x as never, filter as never, strides, c.pad,
                                       c.dataFormat as never, dilations);
    case 'fusedDepthwise':
      return lib.fusedIm2colDepthwiseConv2d({
        x: x as never, filter: filter as never, strides, pad: c.pad, dataFormat: c.dataFormat as never,
        dilations, activation: c.activation,
        bias: c.bias == null ? undefined : tf.tensor(c.bias, c.biasShape),
        preluActivationWeights: c.alpha == null ? undefined : tf.tensor(c.alpha),
        leakyreluAlpha: 0.2
      });
    case 'transpose':
      return lib.im2colConv2dTranspose(x as never, filter as never, c.outputShape as never, strides,
                                       c.pad, undefined, c.dataFormat as never, dilations);
    case 'conv3d':
      return lib.im2colConv3d(x as never, filter as never, strides, c.pad as never,
                              c.dataFormat as never, dilations);
  }
}

export function familyParity(tf: Tf, lib: Lib, arg: FamilyArg): FamilyResult[] {
  const cases = familyCases(arg.op, arg.seed, arg.to);
  const results: FamilyResult[] = [];
  for (let index = arg.from; index < arg.to; index++) {
    const c = cases[index];
    const expected = onBackend(tf, arg.referenceBackend ?? 'cpu', () => referenceFamily(tf, c));
    const x = tf.tensor(c.x, c.xShape);
    const filter = tf.tensor(c.filter, c.filterShape);
    const budget = tf.env().getNumber(lib.WORKSPACE_BYTES_FLAG);
    if (arg.workspaceBytes != null) tf.env().set(lib.WORKSPACE_BYTES_FLAG, arg.workspaceBytes);
    let values: ArrayLike<number>, shape: number[], start, end, peakWorkspaceBytes: number;
    try {
      const run = () => tf.tidy(() => runFamilyOp(lib, tf, c, x, filter));
      // The first run uploads; the second must leave memory as it found it.
      run().dispose();
      lib.resetKernelStats();
      start = memory(tf);
      const out = run();
      values = out.dataSync();
      shape = out.shape;
      out.dispose();
      end = memory(tf);
      peakWorkspaceBytes = lib.kernelStats().peakWorkspaceBytes;
    } finally {
      tf.env().set(lib.WORKSPACE_BYTES_FLAG, budget);
      tf.dispose([x, filter]);
    }
    results.push({
      index, label: label(c), shape, expectedShape: expected.shape,
      error: relativeError(values, expected.values),
      leakedTensors: end.numTensors - start.numTensors, leakedBytes: end.gpuBytes - start.gpuBytes,
      peakWorkspaceBytes
    });
  }
  return results;
}

export interface FamilyGradResult {
  index: number;
  label: string;
  dxError: number;
  dFilterError: number;
  leakedTensors: number;
}

/**
 * Gradients of sum(op(x, filter) * r) for x and the filter, against the same of the
 * reference (tfjs's gradients of tfjs's ops) on the reference backend.
 */
export function familyGradients(tf: Tf, lib: Lib, arg: FamilyArg): FamilyGradResult[] {
  const cases = familyCases(arg.op, arg.seed, arg.to);
  const results: FamilyGradResult[] = [];
  for (let index = arg.from; index < arg.to; index++) {
    const c = cases[index];
    // tfjs 4.22's webgl sum refuses an empty tensor (it reshapes to [-1, 0]): an empty
    // output's loss cannot be formed there. (The cpu targets run those cases.)
    if (c.xShape[0] === 0 && tf.getBackend() === 'webgl') continue;
    const loss = (op: (x: Tensor, f: Tensor) => Tensor) => (x: Tensor, f: Tensor) => {
      const y = op(x, f);
      // A fixed weighting, so every output's gradient differs.
      const r = tf.sin(tf.reshape(tf.range(0, y.size), y.shape));
      return tf.sum(tf.mul(y, r));
    };
    const gradients = (op: (x: Tensor, f: Tensor) => Tensor) => {
      const x = tf.tensor(c.x, c.xShape), f = tf.tensor(c.filter, c.filterShape);
      const grads = tf.grads(loss(op))([x, f]);
      const values = grads.map(g => g.dataSync());
      tf.dispose([x, f, ...grads]);
      return values;
    };
    const expected = onBackend(tf, arg.referenceBackend ?? 'cpu',
                               () => gradients((x, f) => referenceOp(tf, c, x, f)));
    const start = memory(tf);
    const actual = gradients((x, f) => runFamilyOp(lib, tf, c, x, f));
    const end = memory(tf);
    results.push({
      index, label: label(c), dxError: relativeError(actual[0], expected[0]),
      dFilterError: relativeError(actual[1], expected[1]),
      leakedTensors: end.numTensors - start.numTensors
    });
  }
  return results;
}

export interface StandInResult {
  op: string;
  error: number;
  ranOn: string[];
}

/**
 * tfjs's own family ops under useIm2col (its stand-ins) against the same ops without it:
 * tf.depthwiseConv2d, tf.fused.depthwiseConv2d, tf.conv2dTranspose, tf.separableConv2d,
 * tf.conv3d, tf.conv3dTranspose, and tf.depthwiseConv2d's input gradient; and which
 * stand-ins ran.
 */
export function familyStandIns(tf: Tf, lib: Lib, arg: {kernels?: string[], referenceBackend?: string}):
    StandInResult[] {
  const r = (shape: number[], seed: number) => tf.randomUniform(shape, -1, 1, 'float32', seed);
  const x = r([2, 9, 8, 6], 1), dw = r([3, 3, 6, 2], 2), pw = r([1, 1, 12, 5], 3);
  const dy = r([2, 5, 4, 7], 4), wt = r([3, 3, 6, 7], 5), bias = r([12], 6);
  const x3 = r([1, 5, 6, 7, 3], 7), w3 = r([3, 2, 3, 3, 4], 8), dy3 = r([1, 5, 6, 7, 4], 9);
  const ops: Record<string, () => Tensor> = {
    depthwiseConv2d: () => tf.depthwiseConv2d(x as never, dw as never, [2, 1], 'same'),
    fusedDepthwiseConv2d: () => tf.fused.depthwiseConv2d({x: x as never, filter: dw as never,
        strides: 1, pad: 'valid', bias, activation: 'relu6'}),
    conv2dTranspose: () => tf.conv2dTranspose(dy as never, wt as never, [2, 9, 8, 6], 2, 'same'),
    separableConv2d: () => tf.separableConv2d(x as never, dw as never, pw as never, 1, 'same'),
    conv3d: () => tf.conv3d(x3 as never, w3 as never, [1, 2, 1], 'same'),
    conv3dTranspose: () => tf.conv3dTranspose(dy3 as never, w3 as never, [1, 5, 6, 7, 3], 1, 'same'),
    depthwiseInputGradient: () => tf.grad((a: Tensor) => tf.sum(tf.square(
        tf.depthwiseConv2d(a as never, dw as never, 2, 'valid'))))(x),
    // tfjs's gradients that run the filter-gradient kernels.
    depthwiseFilterGradient: () => tf.grad((w: Tensor) => tf.sum(tf.square(
        tf.depthwiseConv2d(x as never, w as never, 1, 'same'))))(dw),
    conv2dTransposeFilterGradient: () => tf.grad((w: Tensor) => tf.sum(tf.square(
        tf.conv2dTranspose(dy as never, w as never, [2, 9, 8, 6], 2, 'same'))))(wt),
  };
  const results: StandInResult[] = [];
  for (const [op, run] of Object.entries(ops)) {
    // Stock tfjs where it has every kernel (the wasm backend has no depthwise input gradient).
    const stock = onBackend(tf, arg.referenceBackend ?? tf.getBackend(), run);
    lib.resetKernelStats();
    const restore = lib.useIm2col({backends: [tf.getBackend()], kernels: arg.kernels});
    let switched: Tensor;
    try {
      switched = run();
    } finally {
      restore();
    }
    // A stand-in that handed its call to the backend's own kernel ran too.
    const {calls, handedToBackend} = lib.kernelStats();
    const ranOn = [...Object.keys(calls), ...Object.keys(handedToBackend)];
    results.push({op, error: relativeError(switched.dataSync(), stock.dataSync()), ranOn});
    tf.dispose([stock, switched]);
  }
  tf.dispose([x, dw, pw, dy, wt, bias, x3, w3, dy3]);
  return results;
}

export interface FilterGradientArg {
  seed: number;
  cases: number;
  /** Where tfjs's own kernels give the references (default cpu). */
  referenceBackend?: string;
  /** IM2COL_WORKSPACE_BYTES for every other case (the default budget for the rest). */
  tiledBytes: number;
}

export interface FilterGradientResult {
  kernel: string;
  label: string;
  error: number;
  leakedTensors: number;
  ranOn: string[];
}

/**
 * Runs a filter-gradient kernel call (under useIm2col where `switched`; under the small
 * workspace on every other pair of cases) and measures it against `expected`; disposes both.
 */
function measureFilterGradient(tf: Tf, lib: Lib, arg: FilterGradientArg, i: number,
                               kernel: string, label: string, switched: boolean,
                               run: () => Tensor, expected: Tensor): FilterGradientResult {
  const before = memory(tf);
  lib.resetKernelStats();
  const restore = switched ? lib.useIm2col({backends: [tf.getBackend()]}) : () => {};
  const flag = lib.WORKSPACE_BYTES_FLAG;
  const budget = tf.env().get(flag);
  if (i % 4 >= 2) tf.env().set(flag, arg.tiledBytes);
  let actual: Tensor;
  try {
    actual = run();
  } finally {
    tf.env().set(flag, budget);
    restore();
  }
  const result = {kernel, label, error: relativeError(actual.dataSync(), expected.dataSync()),
                  leakedTensors: memory(tf).numTensors - before.numTensors - 1,
                  ranOn: Object.keys(lib.kernelStats().calls)};
  tf.dispose([expected, actual]);
  return result;
}

/**
 * One case of Im2colConv3DBackpropFilter (the 3D convolution's filter gradient, tiled under
 * the workspace on every other case) against tfjs's Conv3DBackpropFilterV2 on the reference
 * backend, which has neither dilations (it gets the filter dilated with zeros, read at its
 * taps) nor NCDHW (it gets x and dy transposed).
 */
function volumeFilterGradientCase(tf: Tf, lib: Lib, arg: FilterGradientArg, i: number,
                                  rng: Random): FilterGradientResult {
  const kernel = 'Im2colConv3DBackpropFilter';
  const int = (lo: number, hi: number) => rng.int(lo, hi);
  const ncdhw = rng.next() < 0.4;
  const stride = int(1, 2);
  const dilation = stride === 1 ? int(1, 2) : 1;
  const [fd, fh, fw] = [int(1, 3), int(1, 3), int(1, 3)];
  const span = (f: number) => (f - 1) * dilation + 1;
  const [batch, inC, outC] = [int(1, 2), int(1, 4), int(1, 4)];
  const [depth, height, width] = [Math.max(int(2, 5), span(fd)), Math.max(int(2, 6), span(fh)),
                                  Math.max(int(2, 6), span(fw))];
  const pad = rng.next() < 0.5 ? 'same' : 'valid';
  const filterShape = [fd, fh, fw, inC, outC];
  const reference = arg.referenceBackend ?? 'cpu';
  const xCl = tf.randomUniform([batch, depth, height, width, inC], -1, 1, 'float32', arg.seed + 7 * i);
  const probe: Tensor = onBackend(tf, reference, () => tf.tidy(() => tf.conv3d(
      xCl as never, tf.zeros(filterShape) as never, stride, pad, 'NDHWC', dilation) as never));
  const dyCl = tf.randomUniform(probe.shape, -1, 1, 'float32', arg.seed + 7 * i + 1);
  probe.dispose();
  const expanded = [span(fd), span(fh), span(fw), inC, outC];
  const expected: Tensor = onBackend(tf, reference, () => tf.tidy(() => tf.stridedSlice(
      tf.engine().runKernel('Conv3DBackpropFilterV2', {x: xCl, dy: dyCl} as never,
                            {strides: stride, pad, filterShape: expanded} as never) as Tensor,
      [0, 0, 0, 0, 0], expanded, [dilation, dilation, dilation, 1, 1])));
  const toFirst = [0, 4, 1, 2, 3];
  const [x, dy] = ncdhw ? [tf.transpose(xCl, toFirst), tf.transpose(dyCl, toFirst)] : [xCl, dyCl];
  const attrs = {strides: stride, pad, dataFormat: ncdhw ? 'NCDHW' : 'NDHWC', dilations: dilation,
                 filterShape};
  const result = measureFilterGradient(
      tf, lib, arg, i, kernel, JSON.stringify({xShape: x.shape, ...attrs}), false,
      () => tf.engine().runKernel(kernel, {x, dy} as never, attrs as never) as Tensor, expected);
  tf.dispose([xCl, dyCl, x, dy]);
  return result;
}

/**
 * Conv2DBackpropFilter and DepthwiseConv2dNativeBackpropFilter, called as tfjs's gradients
 * call them, over seeded random geometries (NCHW, strides, dilations, explicit padding,
 * rounding modes; every other case under a small workspace) under useIm2col, against tfjs's
 * own kernels on the reference backend.
 */
export function familyFilterGradients(tf: Tf, lib: Lib, arg: FilterGradientArg):
    FilterGradientResult[] {
  const rng = new Random(arg.seed);
  const int = (lo: number, hi: number) => rng.int(lo, hi);
  const results: FilterGradientResult[] = [];
  for (let i = 0; i < arg.cases; i++) {
    if (i % 3 === 2) {
      results.push(volumeFilterGradientCase(tf, lib, arg, i, rng));
      continue;
    }
    const depthwise = i % 2 === 1;
    const kernel = depthwise ? 'DepthwiseConv2dNativeBackpropFilter' : 'Conv2DBackpropFilter';
    const nchw = !depthwise && rng.next() < 0.4;
    const [batch, height, width, inC] = [int(1, 2), int(3, 9), int(3, 9), int(1, 5)];
    const [fh, fw] = [int(1, 3), int(1, 3)];
    const outC = depthwise ? int(1, 3) : int(1, 6);
    const stride = int(1, 2);
    // tfjs's depthwise op takes dilations or strides above 1, not both.
    const dilation = depthwise && stride === 1 ? int(1, 2) : 1;
    const pads = ['same', 'valid', 1, [[0, 0], [1, 0], [0, 2], [0, 0]]] as const;
    let pad = pads[int(0, 3)] as unknown;
    if (Array.isArray(pad) && nchw) pad = [[0, 0], [0, 0], pad[1], pad[2]];
    const dimRoundingMode = typeof pad === 'number' ? (['floor', 'round', 'ceil'] as const)[int(0, 2)] :
                                                      undefined;
    const filterShape = [fh, fw, inC, outC];
    const attrs = {strides: stride, pad, dataFormat: nchw ? 'NCHW' : 'NHWC', dimRoundingMode,
                   filterShape, ...(depthwise ? {dilations: dilation} : {})};
    const xShape = nchw ? [batch, inC, height, width] : [batch, height, width, inC];
    const x = tf.randomUniform(xShape, -1, 1, 'float32', arg.seed + 7 * i);
    // dy's shape is the convolution's output: from tfjs's own forward op.
    // (On the reference backend: stock wasm refuses NCHW.)
    const probe: Tensor = onBackend(tf, arg.referenceBackend ?? 'cpu', () => tf.tidy(() => depthwise ?
        tf.depthwiseConv2d(x as never, tf.zeros(filterShape) as never, stride, pad as never,
                           'NHWC', dilation, dimRoundingMode) :
        tf.conv2d(x as never, tf.zeros(filterShape) as never, stride, pad as never,
                  nchw ? 'NCHW' : 'NHWC', 1, dimRoundingMode) as never));
    const dy = tf.randomUniform(probe.shape, -1, 1, 'float32', arg.seed + 7 * i + 1);
    probe.dispose();
    const run = () => tf.engine().runKernel(kernel, {x, dy} as never, attrs as never) as Tensor;
    // tfjs's depthwise filter-gradient kernels ignore dilations (tfjs's gradient refuses them):
    // the reference is the undilated gradient by the filter dilated with zeros, at its taps.
    const expanded = [(fh - 1) * dilation + 1, (fw - 1) * dilation + 1, inC, outC];
    const reference = () => dilation === 1 ? run() : tf.tidy(() => tf.stridedSlice(
        tf.engine().runKernel(kernel, {x, dy} as never,
                              {...attrs, dilations: 1, filterShape: expanded} as never) as Tensor,
        [0, 0, 0, 0], expanded, [dilation, dilation, 1, 1]));
    const expected = onBackend(tf, arg.referenceBackend ?? 'cpu', reference);
    results.push(measureFilterGradient(tf, lib, arg, i, kernel,
                                       JSON.stringify({xShape, ...attrs}), true, run, expected));
    tf.dispose([x, dy]);
  }
  return results;
}

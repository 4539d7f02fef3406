/**
 * The CPU GEMM paths (WebAssembly SIMD and TypeScript) against a naive triple loop, on sizes
 * that do not fit the blocking, Inf and NaN in the filter as tf.conv2d treats them, and the
 * IM2COL_CPU_GEMM selection.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import {CPU_GEMM_FLAG, fusedIm2colConv2d, im2colConv1d, im2colConv2d, kernelStats, resetKernelStats, WORKSPACE_BYTES_FLAG} from '../src';
import {availableCpuGemms, cpuGemm, Gemm, WasmIm2colSource} from '../src/cpu/gemm';
import {Im2colSource, PatchSource} from '../src/cpu/patch_source';
import {conv2dGeometry, ConvGeometry, patchLength} from '../src/geometry';
import {WASM_BASE64} from '../src/cpu/gemm/wasm/gemm_wat.generated';
import {randomValues} from './helpers/random';

/** C = A·B in float64, with the sum of |a||b| per entry for the rounding bound. */
function naiveProduct(a: Float32Array, b: Float32Array, m: number, k: number, n: number):
    {c: Float64Array, scale: Float64Array} {
  const c = new Float64Array(m * n);
  const scale = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let sum = 0, abs = 0;
      for (let p = 0; p < k; p++) {
        sum += a[i * k + p] * b[p * n + j];
        abs += Math.abs(a[i * k + p] * b[p * n + j]);
      }
      c[i * n + j] = sum;
      scale[i * n + j] = abs;
    }
  }
  return {c, scale};
}

function expectClose(actual: ArrayLike<number>, expected: Float64Array, scale: Float64Array,
                     where: string): void {
  let worst = 0;
  let worstAt = -1;
  for (let i = 0; i < expected.length; i++) {
    const error = Math.abs(actual[i] - expected[i]) / (scale[i] + 1e-30);
    if (!(error <= worst)) {
      worst = error;
      worstAt = i;
    }
  }
  if (!(worst <= 1e-5)) {
    throw new Error(`${where}: entry ${worstAt} is ${actual[worstAt]}, expected ` +
        `${expected[worstAt]} (relative error ${worst})`);
  }
}

function expectArraysNear(actual: ArrayLike<number>, expected: ArrayLike<number>): void {
  expect(actual.length).toBe(expected.length);
  let worst = 0;
  for (let i = 0; i < expected.length; i++) {
    worst = Math.max(worst, Math.abs(actual[i] - expected[i]));
  }
  expect(worst).toBeLessThan(1e-4);
}

function gemmNamed(name: 'wasm' | 'typescript'): Gemm {
  tf.env().set(CPU_GEMM_FLAG, name);
  try {
    return cpuGemm();
  } finally {
    tf.env().set(CPU_GEMM_FLAG, 'auto');
  }
}

// [m, n, k]: 1s, sizes off the 4×8 / 4×4 micro-tiles, k across the 256-deep blocks.
const SIZES: [number, number, number][] = [
  [1, 1, 1], [1, 9, 5], [7, 1, 3], [5, 7, 3], [4, 8, 256], [13, 9, 257], [3, 70, 1],
  [33, 17, 600], [6, 130, 64], [2, 3, 2311], [64, 64, 513],
];

describe.each(availableCpuGemms())('%s GEMM', name => {
  const gemm = () => gemmNamed(name);

  it.each(SIZES)('m=%i n=%i k=%i, one tile, row-major output', (m, n, k) => {
    const a = randomValues(m * k, m * 1000 + k);
    const b = randomValues(k * n, n * 7 + k);
    const plan = gemm().prepare(b, 0, n, k, n, m);
    plan.a.set(a, plan.aOffset);
    const out = new Float32Array(m * n).fill(NaN);
    plan.multiply(m, plan.a, plan.aOffset, plan.lda, out, 0, n, 1);
    const {c, scale} = naiveProduct(a, b, m, k, n);
    expectClose(out, c, scale, `${name} ${m}x${n}x${k}`);
  });

  it.each(SIZES)('m=%i n=%i k=%i, operands inside larger arrays (offsets, leading ' +
                 'dimensions), A given outside the plan, C strided, epilogue on the tile',
                 (m, n, k) => {
    const [lda, ldb, ldc] = [k + 3, n + 2, n + 5];
    const [aOffset, bOffset, cOffset] = [7, 5, 11];
    const aBig = randomValues(aOffset + m * lda, m * 31 + k);
    const bBig = randomValues(bOffset + k * ldb, n * 13 + k);
    // The reference reads the same entries, packed tight.
    const a = new Float32Array(m * k), b = new Float32Array(k * n);
    for (let i = 0; i < m; i++) a.set(aBig.subarray(aOffset + i * lda, aOffset + i * lda + k), i * k);
    for (let p = 0; p < k; p++) b.set(bBig.subarray(bOffset + p * ldb, bOffset + p * ldb + n), p * n);
    const plan = gemm().prepare(bBig, bOffset, ldb, k, n, m);
    const out = new Float32Array(cOffset + m * ldc).fill(-3);
    const calls: [number, number][] = [];
    plan.multiply(m, aBig, aOffset, lda, out, cOffset, ldc, 1, (c, offset, rows) => {
      expect(c).toBe(out);
      calls.push([offset, rows]);
    });
    expect(calls).toEqual([[cOffset, m]]);
    const {c, scale} = naiveProduct(a, b, m, k, n);
    const actual = new Float32Array(m * n);
    for (let i = 0; i < m; i++) {
      actual.set(out.subarray(cOffset + i * ldc, cOffset + i * ldc + n), i * n);
      // The gap past each row's n columns is left as it was.
      for (let j = n; j < ldc && cOffset + i * ldc + j < out.length; j++) {
        expect(out[cOffset + i * ldc + j]).toBe(-3);
      }
    }
    expectClose(actual, c, scale, `${name} ${m}x${n}x${k} strided`);
    expect(Array.from(out.subarray(0, cOffset))).toEqual(new Array(cOffset).fill(-3));
  });

  it('tiles of different heights fill their rows of the output, leaving the rest', () => {
    const [m, n, k] = [23, 11, 300];
    const a = randomValues(m * k, 3);
    const b = randomValues(k * n, 4);
    const plan = gemm().prepare(b, 0, n, k, n, 10);
    const out = new Float32Array(m * n + 5).fill(-7);
    for (let row0 = 0; row0 < m; row0 += 10) {
      const rows = Math.min(10, m - row0);
      plan.a.set(a.subarray(row0 * k, (row0 + rows) * k), plan.aOffset);
      plan.multiply(rows, plan.a, plan.aOffset, plan.lda, out, row0 * n, n, 1);
    }
    const {c, scale} = naiveProduct(a, b, m, k, n);
    expectClose(out.subarray(0, m * n), c, scale, name);
    expect(Array.from(out.subarray(m * n))).toEqual([-7, -7, -7, -7, -7]);
  });

  it('writes NCHW-strided output (row stride 1, column stride = rows per image)', () => {
    const [m, n, k] = [18, 5, 27];
    const a = randomValues(m * k, 5);
    const b = randomValues(k * n, 6);
    const plan = gemm().prepare(b, 0, n, k, n, m);
    plan.a.set(a, plan.aOffset);
    const offset = 3;
    const out = new Float32Array(offset + n * m).fill(NaN);
    plan.multiply(m, plan.a, plan.aOffset, plan.lda, out, offset, 1, m);
    const {c, scale} = naiveProduct(a, b, m, k, n);
    const transposed = new Float64Array(m * n);
    const transposedScale = new Float64Array(m * n);
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        transposed[j * m + i] = c[i * n + j];
        transposedScale[j * m + i] = scale[i * n + j];
      }
    }
    expectClose(out.subarray(offset), transposed, transposedScale, name);
  });

  it('a large session after a small one (grown scratch) and a small one after it', () => {
    for (const [m, n, k] of [[2, 3, 4], [300, 40, 1100], [3, 2, 5]]) {
      const a = randomValues(m * k, k);
      const b = randomValues(k * n, n);
      const plan = gemm().prepare(b, 0, n, k, n, m);
      plan.a.set(a, plan.aOffset);
      const out = new Float32Array(m * n);
      plan.multiply(m, plan.a, plan.aOffset, plan.lda, out, 0, n, 1);
      const {c, scale} = naiveProduct(a, b, m, k, n);
      expectClose(out, c, scale, `${name} ${m}x${n}x${k}`);
    }
  });

  // [x shape (NHWC), filter shape, strides, dilations, pad, workspace budget in bytes]:
  // channel counts 1 and 5 (NCHW gathers), small budgets so tiles span images and rows, and
  // the wasm path's input band moves.
  const CONVS: [number[], number[], [number, number], [number, number], 'same' | 'valid', number][] = [
    [[2, 9, 11, 5], [3, 2, 5, 10], [2, 1], [1, 1], 'same', 64 * 2 ** 20],
    [[2, 9, 11, 5], [3, 2, 5, 10], [1, 1], [1, 2], 'same', 64 * 2 ** 20],
    [[3, 7, 6, 1], [4, 3, 1, 9], [1, 2], [1, 1], 'same', 4 * 12 * 5],
    [[2, 8, 5, 3], [1, 4, 3, 17], [1, 1], [2, 1], 'valid', 4 * 12 * 7],
    [[2, 11, 7, 4], [3, 3, 4, 6], [2, 2], [1, 1], 'same', 4 * 36 * 9],
    [[2, 5, 13, 2], [3, 3, 2, 3], [1, 1], [2, 1], 'same', 4 * 18 * 3],
  ];

  it.each(CONVS)('runs im2colConv2d like tf.conv2d (NHWC, NCHW): x %j filter %j ' +
                 'strides %j dilations %j %s, workspace %i bytes',
                 async (xShape, filterShape, strides, dilations, pad, budget) => {
    await tf.setBackend('cpu');
    const defaultBudget = tf.env().get(WORKSPACE_BYTES_FLAG);
    tf.env().set(CPU_GEMM_FLAG, name);
    tf.env().set(WORKSPACE_BYTES_FLAG, budget);
    try {
      const x = tf.tensor4d(randomValues(xShape.reduce((a, b) => a * b), 8),
          xShape as [number, number, number, number]);
      const filter = tf.tensor4d(randomValues(filterShape.reduce((a, b) => a * b), 9),
          filterShape as [number, number, number, number]);
      const expected = tf.conv2d(x, filter, strides, pad, 'NHWC', dilations);
      resetKernelStats();
      const nhwc = im2colConv2d(x, filter, strides, pad, 'NHWC', dilations);
      expectArraysNear(await nhwc.data(), await expected.data());
      // NCHW: against the NHWC reference transposed (tf.conv2d on cpu lacks NCHW).
      const nchw = im2colConv2d(tf.transpose(x, [0, 3, 1, 2]), filter, strides, pad, 'NCHW',
          dilations);
      expectArraysNear(await nchw.data(), await tf.transpose(expected, [0, 3, 1, 2]).data());
      expect(kernelStats().peakWorkspaceBytes).toBeLessThanOrEqual(budget);
    } finally {
      tf.env().set(CPU_GEMM_FLAG, 'auto');
      tf.env().set(WORKSPACE_BYTES_FLAG, defaultBudget);
    }
  });
});

/** Same shape, NaN where `expected` is NaN, the same infinities, other values within 1e-4. */
function expectSameNonFinite(actual: ArrayLike<number>, expected: ArrayLike<number>): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    const e = expected[i], a = actual[i];
    if (!Number.isFinite(e) || !Number.isFinite(a)) {
      if (!Object.is(a, e)) throw new Error(`entry ${i} is ${a}, expected ${e}`);
    } else if (!(Math.abs(a - e) <= 1e-4 * Math.max(1, Math.abs(e)))) {
      throw new Error(`entry ${i} is ${a}, expected ${e}`);
    }
  }
}

// tf.conv2d's cpu kernel skips the taps over the padding, so Inf/NaN weights facing it add
// nothing there; the GEMM sees 0 · Inf. Both GEMM paths must give tfjs's results.
describe.each(availableCpuGemms())('%s GEMM, Inf and NaN in the filter', name => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
    tf.env().set(CPU_GEMM_FLAG, name);
  });
  afterAll(() => tf.env().set(CPU_GEMM_FLAG, 'auto'));

  /** A filter of `shape` with Inf, -Inf and NaN at a few taps (some at edge columns). */
  function nonFiniteFilter(shape: number[], seed: number): tf.Tensor4D {
    const values = randomValues(shape.reduce((a, b) => a * b), seed);
    values[0] = Infinity;
    values[Math.floor(values.length / 2)] = NaN;
    values[values.length - 1] = -Infinity;
    return tf.tensor4d(values, shape as [number, number, number, number]);
  }

  // [x shape (NHWC), filter shape, strides, dilations, pad, workspace budget in bytes]
  const CASES: [number[], number[], [number, number], [number, number],
                'same' | 'valid' | number, number][] = [
    [[1, 5, 5, 2], [3, 3, 2, 3], [1, 1], [1, 1], 'same', 64 * 2 ** 20],
    [[2, 6, 7, 3], [3, 2, 3, 10], [2, 1], [1, 1], 'same', 4 * 18 * 5],
    [[1, 6, 7, 2], [2, 3, 2, 5], [1, 1], [1, 2], 'same', 64 * 2 ** 20],
    [[1, 7, 6, 1], [2, 3, 1, 17], [1, 1], [2, 1], 2, 64 * 2 ** 20],
    [[1, 6, 6, 2], [3, 3, 2, 8], [1, 1], [1, 1], 'valid', 64 * 2 ** 20],
  ];

  it.each(CASES)('x %j filter %j strides %j dilations %j pad %j, workspace %i bytes',
                 async (xShape, filterShape, strides, dilations, pad, budget) => {
    const defaultBudget = tf.env().get(WORKSPACE_BYTES_FLAG);
    tf.env().set(WORKSPACE_BYTES_FLAG, budget);
    try {
      const x = tf.tensor4d(randomValues(xShape.reduce((a, b) => a * b), 11),
                            xShape as [number, number, number, number]);
      const filter = nonFiniteFilter(filterShape, 12);
      // A numeric pad as its explicit form, where tf.conv2d sizes it right (README).
      const tfPad = typeof pad === 'number' ?
          [[0, 0], [pad, pad], [pad, pad], [0, 0]] as tf.backend_util.ExplicitPadding : pad;
      const expected = tf.conv2d(x, filter, strides, tfPad, 'NHWC', dilations);
      const nhwc = im2colConv2d(x, filter, strides, pad, 'NHWC', dilations);
      expectSameNonFinite(await nhwc.data(), await expected.data());
      const nchw = im2colConv2d(tf.transpose(x, [0, 3, 1, 2]), filter, strides, pad, 'NCHW',
                                dilations);
      expectSameNonFinite(await nchw.data(), await tf.transpose(expected, [0, 3, 1, 2]).data());
      tf.dispose([x, filter, expected, nhwc, nchw]);
    } finally {
      tf.env().set(WORKSPACE_BYTES_FLAG, defaultBudget);
    }
  });

  it('in a conv1d and a fused conv2d with bias and relu', async () => {
    const x = tf.tensor3d(randomValues(2 * 9 * 3, 13), [2, 9, 3]);
    const filter = tf.reshape(nonFiniteFilter([1, 3, 3, 4], 14), [3, 3, 4]) as tf.Tensor3D;
    const expected = tf.conv1d(x, filter, 1, 'same');
    const actual = im2colConv1d(x, filter, 1, 'same');
    expectSameNonFinite(await actual.data(), await expected.data());

    const x4 = tf.tensor4d(randomValues(5 * 5 * 2, 15), [1, 5, 5, 2]);
    const filter4 = nonFiniteFilter([3, 3, 2, 3], 16);
    const bias = tf.tensor1d([0.5, -1, 2]);
    const fusedExpected = tf.fused.conv2d({x: x4, filter: filter4, strides: 1, pad: 'same',
                                           bias, activation: 'relu'});
    const fusedActual = fusedIm2colConv2d({x: x4, filter: filter4, strides: 1, pad: 'same',
                                           bias, activation: 'relu'});
    expectSameNonFinite(await fusedActual.data(), await fusedExpected.data());
    tf.dispose([x, filter, expected, actual, x4, filter4, bias, fusedExpected, fusedActual]);
  });
});

describe('GEMM selection (IM2COL_CPU_GEMM)', () => {
  afterEach(() => tf.env().set(CPU_GEMM_FLAG, 'auto'));

  it('Node 20 has WebAssembly SIMD, and auto picks the wasm GEMM', () => {
    expect(availableCpuGemms()).toEqual(['wasm', 'typescript']);
    expect(tf.env().get(CPU_GEMM_FLAG)).toBe('auto');
    expect(cpuGemm().name).toBe('wasm');
  });

  it('the wasm module stays under the 4 KB that every browser compiles synchronously', () => {
    expect(Buffer.from(WASM_BASE64, 'base64').length).toBeLessThan(4096);
  });

  it('typescript and wasm pick themselves', () => {
    tf.env().set(CPU_GEMM_FLAG, 'typescript');
    expect(cpuGemm().name).toBe('typescript');
    tf.env().set(CPU_GEMM_FLAG, 'wasm');
    expect(cpuGemm().name).toBe('wasm');
  });

  it('an unknown value is an error naming the flag and the choices', () => {
    tf.env().set(CPU_GEMM_FLAG, 'gpu');
    expect(() => cpuGemm()).toThrow(/IM2COL_CPU_GEMM must be 'auto', 'wasm' or 'typescript'/);
  });
});

// The patch sources against the definition of a patch row, written at an offset with a
// leading dimension wider than a row; tiles spanning images, padding, stride and dilation.
describe('patch sources', () => {
  /** Patch row `flatRow` straight from the definition: taps (kh, kw, c), zeros off the input. */
  function naivePatchRow(x: Float32Array, g: ConvGeometry, flatRow: number): number[] {
    const rowsPerImage = g.outHeight * g.outWidth;
    const image = Math.floor(flatRow / rowsPerImage);
    const outRow = Math.floor((flatRow % rowsPerImage) / g.outWidth);
    const outCol = flatRow % g.outWidth;
    const row: number[] = [];
    for (let kh = 0; kh < g.filterHeight; kh++) {
      for (let kw = 0; kw < g.filterWidth; kw++) {
        for (let c = 0; c < g.inChannels; c++) {
          const r = outRow * g.strideHeight - g.padInfo.top + kh * g.dilationHeight;
          const q = outCol * g.strideWidth - g.padInfo.left + kw * g.dilationWidth;
          const inside = r >= 0 && r < g.inHeight && q >= 0 && q < g.inWidth;
          const at = g.dataFormat === 'channelsLast' ?
              ((image * g.inHeight + r) * g.inWidth + q) * g.inChannels + c :
              ((image * g.inChannels + c) * g.inHeight + r) * g.inWidth + q;
          row.push(inside ? x[at] : 0);
        }
      }
    }
    return row;
  }

  const GEOMETRIES: [number[], number[], [number, number], [number, number], 'NHWC' | 'NCHW'][] = [
    [[2, 7, 6, 3], [3, 2, 3, 4], [1, 1], [1, 1], 'NHWC'],
    [[3, 6, 9, 2], [2, 3, 2, 4], [2, 1], [1, 2], 'NHWC'],
    [[2, 3, 7, 6], [3, 3, 3, 4], [1, 2], [2, 1], 'NCHW'],
    [[2, 1, 8, 5], [2, 2, 1, 4], [1, 1], [1, 1], 'NCHW'],
  ];

  it.each(GEOMETRIES)('x %j filter %j strides %j dilations %j %s', (xShape, filterShape,
                                                                    strides, dilations, dataFormat) => {
    const g = conv2dGeometry(xShape, filterShape, {strides, pad: 'same', dataFormat, dilations});
    const x = randomValues(xShape.reduce((a, b) => a * b), 21);
    const k = patchLength(g);
    const totalRows = g.batchSize * g.outHeight * g.outWidth;
    // Tiles of 5 rows, so some cross an image's end.
    const tileRows = 5;
    const sources: [string, PatchSource, boolean][] = [['typescript', new Im2colSource(x, g), false]];
    if (availableCpuGemms().includes('wasm')) {
      sources.push(['wasm', new WasmIm2colSource(x, g), true]);
    }
    for (const [name, source, inWasm] of sources) {
      for (const lda of [k, k + 3]) {
        // The wasm source writes only into a wasm GEMM plan's memory; the rows are within the
        // plan's A (room for 2 * tileRows rows of k floats) at either leading dimension.
        const plan = (inWasm ? gemmNamed('wasm') : gemmNamed('typescript'))
            .prepare(new Float32Array(k), 0, 1, k, 1, 2 * tileRows, source.scratchFloats(tileRows));
        const dstOffset = plan.aOffset + 2;
        for (let row0 = 0; row0 < totalRows; row0 += tileRows) {
          const rows = Math.min(tileRows, totalRows - row0);
          plan.a.fill(NaN, plan.aOffset, plan.aOffset + 2 * tileRows * k);
          source.fill(row0, rows, plan.a, dstOffset, lda, plan.scratch, plan.scratchOffset);
          for (let r = 0; r < rows; r++) {
            const written = Array.from(plan.a.subarray(dstOffset + r * lda, dstOffset + r * lda + k));
            expect([name, lda, row0 + r, written]).toEqual([name, lda, row0 + r,
                                                            naivePatchRow(x, g, row0 + r)]);
            // The gap between rows is left alone.
            for (let p = k; p < lda && r + 1 < rows; p++) {
              expect(plan.a[dstOffset + r * lda + p]).toBeNaN();
            }
          }
        }
      }
    }
  });

  it('the wasm im2col refuses memory that is not a wasm GEMM plan\'s', () => {
    const g = conv2dGeometry([1, 4, 4, 1], [2, 2, 1, 1], {strides: 1, pad: 'valid', dataFormat: 'NHWC', dilations: 1});
    const source = new WasmIm2colSource(new Float32Array(16), g);
    const dst = new Float32Array(100);
    expect(() => source.fill(0, 2, dst, 0, 4, dst, 50)).toThrow(/wasm GEMM plan/);
  });
});

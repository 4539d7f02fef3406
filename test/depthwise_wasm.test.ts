/**
 * The depthwise convolution's wasm path: the module's channelwise product against a naive
 * loop; convolveDepthwise on the wasm and TypeScript paths against a float64 reference on
 * images tall enough for many tiles (the input band kept and moved across them), channel
 * counts off the f32x4 lanes, multipliers, NHWC and NCHW, small workspace budgets; a filter
 * with Inf; and the fallback when the module's memory cannot grow.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import {CPU_GEMM_FLAG, im2colDepthwiseConv2d, WORKSPACE_BYTES_FLAG} from '../src';
import {convolveDepthwise} from '../src/cpu/depthwise';
import {ConvGeometry, patchLength} from '../src/geometry';
import {depthwiseGeometry} from '../src/geometry/family';
import {WASM_BASE64} from '../src/cpu/gemm/wasm/gemm_wat.generated';
import {Random} from './helpers/random';

interface ChannelwiseExports {
  memory: WebAssembly.Memory;
  channelwise(a: number, lda: number, w: number, c: number, ldc: number, m: number,
              taps: number, channels: number): void;
}

/** The depthwise convolution in float64, padded taps skipped, and the sum of |terms|. */
function reference(x: Float32Array, filter: Float32Array, g: ConvGeometry):
    {out: Float64Array, scale: Float64Array} {
  const {batchSize, inHeight, inWidth, inChannels, outHeight, outWidth, outChannels} = g;
  const multiplier = outChannels / inChannels;
  const channelsLast = g.dataFormat === 'channelsLast';
  const out = new Float64Array(batchSize * outHeight * outWidth * outChannels);
  const scale = new Float64Array(out.length);
  const xAt = (b: number, y: number, xx: number, c: number) => channelsLast ?
      ((b * inHeight + y) * inWidth + xx) * inChannels + c :
      ((b * inChannels + c) * inHeight + y) * inWidth + xx;
  const outAt = (b: number, y: number, xx: number, o: number) => channelsLast ?
      ((b * outHeight + y) * outWidth + xx) * outChannels + o :
      ((b * outChannels + o) * outHeight + y) * outWidth + xx;
  for (let b = 0; b < batchSize; b++) {
    for (let oy = 0; oy < outHeight; oy++) {
      for (let ox = 0; ox < outWidth; ox++) {
        for (let o = 0; o < outChannels; o++) {
          const c = Math.floor(o / multiplier);
          let sum = 0, abs = 0;
          for (let kh = 0; kh < g.filterHeight; kh++) {
            const y = oy * g.strideHeight - g.padInfo.top + kh * g.dilationHeight;
            for (let kw = 0; kw < g.filterWidth; kw++) {
              const xx = ox * g.strideWidth - g.padInfo.left + kw * g.dilationWidth;
              if (y < 0 || y >= inHeight || xx < 0 || xx >= inWidth) continue;
              const term = x[xAt(b, y, xx, c)] *
                  filter[(kh * g.filterWidth + kw) * outChannels + o];
              sum += term;
              abs += Math.abs(term);
            }
          }
          out[outAt(b, oy, ox, o)] = sum;
          scale[outAt(b, oy, ox, o)] = abs;
        }
      }
    }
  }
  return {out, scale};
}

function worstError(actual: ArrayLike<number>, expected: Float64Array, scale: Float64Array):
    number {
  let worst = 0;
  for (let i = 0; i < expected.length; i++) {
    const error = Math.abs(actual[i] - expected[i]) / (scale[i] + 1e-6);
    if (!(error <= worst)) worst = error;
  }
  return worst;
}

// The fallback runs first: the one warning per process is still to come.
describe('the module\'s memory cannot grow', () => {
  afterEach(() => {
    jest.restoreAllMocks();
    tf.env().set(CPU_GEMM_FLAG, 'auto');
  });

  it('auto computes the depthwise convolution in TypeScript (one warning); wasm throws',
     async () => {
    await tf.setBackend('cpu');
    const warn = jest.spyOn(console, 'warn').mockImplementation(() => {});
    const grow = jest.spyOn(WebAssembly.Memory.prototype, 'grow').mockImplementation(() => {
      throw new RangeError('WebAssembly.Memory.grow(): Unable to grow instance memory');
    });
    const random = new Random(5);
    const x = tf.tensor4d(random.values(64 * 64 * 48), [1, 64, 64, 48]);
    const filter = tf.tensor4d(random.values(3 * 3 * 48), [3, 3, 48, 1]);
    const expected = await tf.depthwiseConv2d(x, filter, 1, 'same').data();
    for (let call = 0; call < 2; call++) {
      const actual = await im2colDepthwiseConv2d(x, filter, 1, 'same').data();
      let worst = 0;
      for (let i = 0; i < expected.length; i++) {
        worst = Math.max(worst, Math.abs(actual[i] - expected[i]));
      }
      expect(worst).toBeLessThan(1e-4);
    }
    expect(grow).toHaveBeenCalled();
    expect(warn).toHaveBeenCalledTimes(1);
    expect(String(warn.mock.calls[0][0])).toContain('Unable to grow instance memory');
    tf.env().set(CPU_GEMM_FLAG, 'wasm');
    expect(() => im2colDepthwiseConv2d(x, filter, 1, 'same')).toThrow(
        /IM2COL_CPU_GEMM is 'wasm', but the WebAssembly GEMM could not get \d+ bytes of memory/);
    tf.dispose([x, filter]);
  });
});

describe('the module\'s channelwise product', () => {
  const bytes = Buffer.from(WASM_BASE64, 'base64');
  const wasm = new WebAssembly.Instance(new WebAssembly.Module(bytes))
                   .exports as unknown as ChannelwiseExports;
  wasm.memory.grow(4);
  const heap = new Float32Array(wasm.memory.buffer);

  it('matches a naive loop: channels 1..9, taps 1..9, rows 1..20', () => {
    const random = new Random(17);
    for (let channels = 1; channels <= 9; channels++) {
      for (let taps = 1; taps <= 9; taps++) {
        for (let m = 1; m <= 20; m += (m < 9 ? 1 : 5)) {
          const cPad = Math.ceil(channels / 4) * 4;
          const lda = taps * channels + random.int(0, 3);
          const ldc = cPad + 4 * random.int(0, 1);
          const rows = Math.ceil(m / 4) * 4;
          // W at 0, A after it, C after A and its slack.
          const wAt = 0, aAt = taps * cPad + 4, cAt = aAt + rows * lda + 8;
          heap.fill(NaN, 0, cAt + rows * ldc + 8);
          const w = random.values(taps * channels), a = random.values(rows * lda);
          for (let t = 0; t < taps; t++) {
            for (let ch = 0; ch < cPad; ch++) {
              heap[wAt + t * cPad + ch] = ch < channels ? w[t * channels + ch] : 0;
            }
          }
          heap.set(a, aAt);
          wasm.channelwise(4 * aAt, lda, 4 * wAt, 4 * cAt, ldc, rows, taps, channels);
          for (let r = 0; r < m; r++) {
            for (let ch = 0; ch < channels; ch++) {
              let sum = 0, abs = 0;
              for (let t = 0; t < taps; t++) {
                const term = a[r * lda + t * channels + ch] * w[t * channels + ch];
                sum += term;
                abs += Math.abs(term);
              }
              const actual = heap[cAt + r * ldc + ch];
              if (!(Math.abs(actual - sum) <= 1e-6 * abs + 1e-7)) {
                throw new Error(`channels ${channels}, taps ${taps}, m ${m}: C[${r}, ${ch}] is ` +
                                `${actual}, expected ${sum}`);
              }
            }
          }
        }
      }
    }
  });
});

const DEFAULT_BUDGET = 64 * 2 ** 20;

type Case = [number[], number[], number | [number, number], 'same' | 'valid' | number,
             number | [number, number]];

// [x shape (NHWC), filter shape, strides, pad, dilations]
const CASES: Case[] = [
  [[2, 23, 41, 13], [3, 3, 13, 1], 1, 'same', 1],
  [[1, 40, 37, 8], [5, 5, 8, 2], 2, 'valid', 2],
  [[3, 9, 70, 4], [3, 2, 4, 3], [2, 1], 1, 1],
  [[1, 33, 30, 1], [3, 3, 1, 1], 1, 'same', [2, 1]],
  [[1, 31, 29, 6], [1, 1, 6, 1], 1, 'valid', 1],
  [[2, 20, 20, 32], [3, 3, 32, 1], 2, 'same', 1],
  [[1, 12, 50, 5], [4, 4, 5, 1], 3, 'same', 1],
];

describe.each(['wasm', 'typescript'])('convolveDepthwise on the %s path', gemm => {
  afterEach(() => {
    tf.env().set(CPU_GEMM_FLAG, 'auto');
    tf.env().set(WORKSPACE_BYTES_FLAG, DEFAULT_BUDGET);
  });

  const budgets: [string, (g: ConvGeometry) => number][] = [
    ['the default budget', () => DEFAULT_BUDGET],
    ['a budget of 5 patch rows', g => 4 * 5 * patchLength(g)],
    ['a budget under one patch row', () => 1],
  ];
  it.each(budgets)('matches the reference under %s (NHWC and NCHW)', (_, budgetOf) => {
    const random = new Random(23);
    for (const [xShape, filterShape, strides, pad, dilations] of CASES) {
      for (const dataFormat of ['NHWC', 'NCHW'] as const) {
        const [b, h, w, c] = xShape;
        const shape = dataFormat === 'NHWC' ? xShape : [b, c, h, w];
        const g = depthwiseGeometry(shape, filterShape, {strides, pad, dataFormat, dilations});
        const x = random.values(b * h * w * c);
        const filter = random.values(filterShape.reduce((p, q) => p * q));
        tf.env().set(CPU_GEMM_FLAG, gemm);
        tf.env().set(WORKSPACE_BYTES_FLAG, budgetOf(g));
        const out = new Float32Array(g.outShape.reduce((p, q) => p * q)).fill(NaN);
        const {workspaceBytes} = convolveDepthwise(x, filter, g, out);
        const {out: expected, scale} = reference(x, filter, g);
        const error = worstError(out, expected, scale);
        if (!(error < 1e-5)) {
          throw new Error(`${shape} ${filterShape} ${dataFormat}: relative error ${error}`);
        }
        expect(workspaceBytes).toBeLessThanOrEqual(Math.max(budgetOf(g), 4 * patchLength(g)));
      }
    }
  });

  it('a filter with Inf leaves the outputs whose windows hang over the padding finite', () => {
    tf.env().set(CPU_GEMM_FLAG, gemm);
    const random = new Random(29);
    const g = depthwiseGeometry([1, 20, 20, 8], [3, 3, 8, 1],
                                {strides: 1, pad: 'same', dataFormat: 'NHWC', dilations: 1});
    const x = random.values(20 * 20 * 8);
    const filter = random.values(3 * 3 * 8);
    filter[0] = Infinity;  // tap (0, 0) of channel 0: padding for output row 0 and column 0
    const out = new Float32Array(20 * 20 * 8);
    convolveDepthwise(x, filter, g, out);
    const {out: expected} = reference(x, filter, g);
    for (let i = 0; i < out.length; i++) {
      if (Number.isFinite(expected[i])) {
        expect(Math.abs(out[i] - expected[i])).toBeLessThan(1e-4);
      } else {
        expect(out[i]).toBe(expected[i]);
      }
    }
    // Channel 0 of output (0, 0) reads the Inf tap over the padding only: finite.
    expect(Number.isFinite(out[0])).toBe(true);
  });
});

/**
 * What the page computes: the settings of one convolution, the article's presets, and the
 * input and filter values. The values follow the seed's formulas with the shapes as
 * parameters, X[c][h][w] = H·W·c + W·h + w + 1 and W[o][c][kh][kw] = C·kH·kW·o + kH·kW·c +
 * kW·kh + kw + 1, so each preset shows exactly the article's numbers and every other
 * setting shows the same easy-to-trace counting pattern.
 */
import {ARTICLE_EXAMPLES, ArticleExample} from '../article_examples';

export type Padding = 'valid' | 'same' | number;

export interface Settings {
  dims: 1 | 2;
  /** Always 1 for a 1D convolution. */
  height: number;
  width: number;
  channels: number;
  filters: number;
  /** Always 1 for a 1D convolution. */
  kernelHeight: number;
  kernelWidth: number;
  stride: number;
  pad: Padding;
  dilation: number;
}

export interface Preset {
  title: string;
  settings: Settings;
}

function presetOf(example: ArticleExample): Preset {
  const {title, stride, pad, dilation} = example;
  if (example.kind === 'conv2d') {
    const x = example.x as number[][][];
    const filter = example.filter as number[][][][];
    return {title, settings: {
      dims: 2, height: x.length, width: x[0].length, channels: x[0][0].length,
      filters: filter[0][0][0].length, kernelHeight: filter.length, kernelWidth: filter[0].length,
      stride, pad, dilation,
    }};
  }
  const x = example.x as number[][];
  const filter = example.filter as number[][][];
  return {title, settings: {
    dims: 1, height: 1, width: x.length, channels: x[0].length, filters: filter[0][0].length,
    kernelHeight: 1, kernelWidth: filter.length, stride, pad, dilation,
  }};
}

/** The article's examples (demo/article_examples.ts), as settings of this page. */
export const PRESETS: Preset[] = ARTICLE_EXAMPLES.map(presetOf);

const range = (n: number) => Array.from({length: n}, (_, i) => i);

/** The input as [height][width][channels] (NHWC without the batch). */
export function inputValues(s: Settings): number[][][] {
  return range(s.height).map(h => range(s.width).map(
      w => range(s.channels).map(c => s.height * s.width * c + s.width * h + w + 1)));
}

/** The filters as [kernelHeight][kernelWidth][channels][filters], tfjs's filter layout. */
export function filterValues(s: Settings): number[][][][] {
  const taps = s.kernelHeight * s.kernelWidth;
  return range(s.kernelHeight).map(kh => range(s.kernelWidth).map(kw => range(s.channels).map(
      c => range(s.filters).map(o => s.channels * taps * o + taps * c + s.kernelWidth * kh + kw + 1))));
}


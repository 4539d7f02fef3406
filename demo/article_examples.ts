/**
 * The article's three examples with the project's canonical values (shared/seed-article.md),
 * built from their formulas. Input X[c][h][w] and filters W[o][c][kh][kw] are written in the
 * article's index order and laid out here as tfjs wants them (NHWC, [kh, kw, inC, outC]).
 */
export interface ArticleExample {
  title: string;
  kind: 'conv2d' | 'conv1d';
  /** conv2d: [height, width, channels]; conv1d: [width, channels]. */
  x: number[][][] | number[][];
  /** conv2d: [kh, kw, inC, outC]; conv1d: [kw, inC, outC]. */
  filter: number[][][][] | number[][][];
  stride: number;
  pad: 'valid' | number;
  dilation: number;
}

const range = (n: number) => Array.from({length: n}, (_, i) => i);

export const ARTICLE_EXAMPLES: ArticleExample[] = [
  {
    title: 'Example 1: one channel, one filter (4x4x1 input, 2x2 kernel)',
    kind: 'conv2d',
    x: range(4).map(h => range(4).map(w => [4 * h + w + 1])),
    filter: range(2).map(kh => range(2).map(kw => [[2 * kh + kw + 1]])),
    stride: 1, pad: 'valid', dilation: 1,
  },
  {
    title: 'Example 2: three channels, two filters (4x4x3 input, 2x2 kernel)',
    kind: 'conv2d',
    x: range(4).map(h => range(4).map(w => range(3).map(c => 16 * c + 4 * h + w + 1))),
    filter: range(2).map(kh => range(2).map(kw => range(3).map(
        c => range(2).map(o => 12 * o + 4 * c + 2 * kh + kw + 1)))),
    stride: 1, pad: 'valid', dilation: 1,
  },
  {
    title: 'Example 3: 1D convolution (length 12, 3 channels, kernel 4, stride 2, padding 2, dilation 2)',
    kind: 'conv1d',
    x: range(12).map(t => range(3).map(c => 12 * c + t + 1)),
    filter: range(4).map(k => range(3).map(c => range(2).map(o => 12 * o + 4 * c + k + 1))),
    stride: 2, pad: 2, dilation: 2,
  },
  {
    title: 'Example 3, second reading (stride 2, no padding, no dilation)',
    kind: 'conv1d',
    x: range(12).map(t => range(3).map(c => 12 * c + t + 1)),
    filter: range(4).map(k => range(3).map(c => range(2).map(o => 12 * o + 4 * c + k + 1))),
    stride: 2, pad: 'valid', dilation: 1,
  },
];

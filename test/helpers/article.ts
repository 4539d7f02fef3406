/**
 * The article's three examples with this project's canonical values (shared/seed-article.md),
 * built from their formulas, and the matrices the seed document states, typed in by hand.
 */
export function range(n: number): number[] {
  return Array.from({length: n}, (_, i) => i);
}

/** Example 1: X[0][h][w] = 4h + w + 1 as NHWC [4, 4, 1]; W = [[1, 2], [3, 4]] as [2, 2, 1, 1]. */
export const example1 = {
  x: range(4).map(h => range(4).map(w => [4 * h + w + 1])),
  filter: [[[[1]], [[2]]], [[[3]], [[4]]]],
  P: [[1, 2, 3, 5, 6, 7, 9, 10, 11], [2, 3, 4, 6, 7, 8, 10, 11, 12],
      [5, 6, 7, 9, 10, 11, 13, 14, 15], [6, 7, 8, 10, 11, 12, 14, 15, 16]],
  K: [[1, 2, 3, 4]],
  KP: [[44, 54, 64, 84, 94, 104, 124, 134, 144]],
};

/** Example 2: X[c][h][w] = 16c + 4h + w + 1; W[o][c][kh][kw] = 12o + 4c + 2kh + kw + 1. */
export const example2 = {
  x: range(4).map(h => range(4).map(w => range(3).map(c => 16 * c + 4 * h + w + 1))),
  filter: range(2).map(kh => range(2).map(kw => range(3).map(c => range(2).map(
      o => 12 * o + 4 * c + 2 * kh + kw + 1)))),
  K: [range(12).map(i => i + 1), range(12).map(i => i + 13)],
  KP: [[2060, 2138, 2216, 2372, 2450, 2528, 2684, 2762, 2840],
       [4868, 5090, 5312, 5756, 5978, 6200, 6644, 6866, 7088]],
};

/** Example 3: x[c][t] = 12c + t + 1 as NWC [12, 3]; W[o][c][k] = 12o + 4c + k + 1 as [4, 3, 2]. */
export const example3 = {
  x: range(12).map(t => range(3).map(c => 12 * c + t + 1)),
  filter: range(4).map(k => range(3).map(c => range(2).map(o => 12 * o + 4 * c + k + 1))),
  stride: 2,
  pad: 2,
  dilation: 2,
  P: [[0, 1, 3, 5, 7], [1, 3, 5, 7, 9], [3, 5, 7, 9, 11], [5, 7, 9, 11, 0],
      [0, 13, 15, 17, 19], [13, 15, 17, 19, 21], [15, 17, 19, 21, 23], [17, 19, 21, 23, 0],
      [0, 25, 27, 29, 31], [25, 27, 29, 31, 33], [27, 29, 31, 33, 35], [29, 31, 33, 35, 0]],
  K: [range(12).map(i => i + 1), range(12).map(i => i + 13)],
  KP: [[1245, 1662, 1818, 1974, 1434], [2865, 3966, 4410, 4854, 3702]],
  output: [[1245, 2865], [1662, 3966], [1818, 4410], [1974, 4854], [1434, 3702]],
  /** The other reading: padding 0, dilation 1, stride 2. */
  unpaddedKP: [[1530, 1686, 1842, 1998, 2154], [3618, 4062, 4506, 4950, 5394]],
};

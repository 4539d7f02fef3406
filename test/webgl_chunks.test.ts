/**
 * The WebGL driver's chunk plan (pure arithmetic, checked here in Node): every output
 * position lands in exactly one chunk, no patch texture exceeds the limit, chunks start at
 * even columns, and NCHW chunks keep each texel's two rows together.
 */
import {conv2dGeometry, ConvGeometry, patchLength} from '../src/geometry';
import {planOutputChunks} from '../src/webgl/conv_im2col';

function check(g: ConvGeometry, maxTexels: number): number {
  const chunks = planOutputChunks(g, maxTexels);
  const covered = new Uint8Array(g.batchSize * g.outHeight * g.outWidth);
  const depthTexels = Math.ceil(patchLength(g) / 2);
  for (const {firstRow, rows, firstCol, cols} of chunks) {
    expect(rows * Math.ceil(cols / 2) * depthTexels).toBeLessThanOrEqual(maxTexels);
    expect(firstCol % 2).toBe(0);
    for (let r = firstRow; r < firstRow + rows; r++) {
      for (let c = firstCol; c < firstCol + cols; c++) covered[r * g.outWidth + c]++;
    }
    if (g.dataFormat === 'channelsFirst') {
      // Every (even row, row + 1) pair of one image lies in one chunk.
      const localFirst = firstRow % g.outHeight;
      expect(localFirst % 2).toBe(0);
      expect(Math.floor(firstRow / g.outHeight) === Math.floor((firstRow + rows - 1) / g.outHeight) ?
          (rows % 2 === 0 || localFirst + rows === g.outHeight) : (rows % g.outHeight === 0 && localFirst === 0))
          .toBe(true);
    }
  }
  expect(Array.from(covered).every(n => n === 1)).toBe(true);
  return chunks.length;
}

describe('planOutputChunks', () => {
  const layers: Array<[number[], number[], 'NHWC' | 'NCHW', number]> = [
    [[1, 56, 56, 64], [3, 3, 64, 64], 'NHWC', 1],
    [[3, 17, 13, 5], [3, 3, 5, 4], 'NHWC', 2],
    [[3, 5, 17, 13], [3, 3, 5, 4], 'NCHW', 1],
    [[2, 4, 9, 7], [2, 3, 4, 6], 'NCHW', 2],
    [[1, 1, 4000, 80], [1, 1, 80, 64], 'NHWC', 1],
  ];
  for (const [xShape, filterShape, dataFormat, stride] of layers) {
    it(`covers ${dataFormat} ${xShape} * ${filterShape} for any texel limit`, () => {
      const g = conv2dGeometry(xShape, filterShape, {strides: stride, pad: 'same', dataFormat, dilations: 1});
      const depthTexels = Math.ceil(patchLength(g) / 2);
      const all = g.batchSize * g.outHeight * Math.ceil(g.outWidth / 2) * depthTexels;
      expect(check(g, all)).toBe(1);
      for (const limit of [2 * depthTexels, 3 * depthTexels, 5 * depthTexels + 1, Math.ceil(all / 7),
                           Math.ceil(all / 2)]) {
        expect(check(g, limit)).toBeGreaterThan(1);
      }
    });
  }

  it('names the limits when one position does not fit', () => {
    const g = conv2dGeometry([1, 8, 8, 64], [3, 3, 64, 8], {strides: 1, pad: 'same', dataFormat: 'NHWC', dilations: 1});
    expect(() => planOutputChunks(g, 100)).toThrow(/does not fit a texture of 100 texels \(WEBGL_MAX_TEXTURE_SIZE is .*, IM2COL_WORKSPACE_BYTES is .*\)/);
  });
});

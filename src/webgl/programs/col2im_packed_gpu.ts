/**
 * col2im of one chunk of patch-matrix rows, packed: the image of g.inShape where each value
 * sums the chunk's patch entries that read it (Col2imProgram's gather: every tap whose window
 * lands on the stride grid), plus, where the rows come in several chunks, the sums of the
 * chunks before (input `previous`, the previous pass's output).
 *
 * Input `patches`: [rows, cols, kh * kw * inChannels], packed (PatchGradientPackedProgram),
 * the output positions (flat row chunk.x + i, column chunk.y + j), i < chunk.z, j < chunk.w.
 * Output: NHWC [batch, inH, inW, inC] or NCHW [batch, inC, inH, inW], packed. With channels
 * last and an even channel count, one patch texel read gives both channels of an output
 * texel's column.
 */
import type {GPGPUProgram} from '@tensorflow/tfjs-backend-webgl';
import type {ConvGeometry} from '../../geometry';
import {PICK_VALUE_GLSL} from './glsl_util';

/**
 * GLSL of `type name(int b, int row, int col, int channel)`: the sum, over the taps (kh, kw)
 * whose window at some output position (outRow, outCol) reads image value (b, row, col,
 * channel), of `read`, an expression of those and of i = b * outHeight + outRow - chunk.x,
 * j = outCol - chunk.y, k = (kh * filterWidth + kw) * inChannels + channel. With `chunked`,
 * only output positions inside the uniform `chunk` count.
 */
export function col2imGather(g: ConvGeometry, name: string, type: 'float' | 'vec2',
                             read: string, chunked: boolean): string {
  const [rowFirst, rowCount, colFirst, colCount] =
      chunked ? ['chunk.x', 'chunk.z', 'chunk.y', 'chunk.w'] : ['0', '', '0', ''];
  return `
      ${type} ${name}(int b, int row, int col, int channel) {
        ${type} sum = ${type}(0.);
        for (int kh = 0; kh < ${g.filterHeight}; kh++) {
          // Window top that puts tap kh on this row; it must be a stride multiple in range.
          int top = row + ${g.padInfo.top} - kh * ${g.dilationHeight};
          if (top < 0) break;
          int outRow = top / ${g.strideHeight};
          int i = b * ${g.outHeight} + outRow - ${rowFirst};
          if (outRow * ${g.strideHeight} != top || outRow >= ${g.outHeight}${
              chunked ? ` || i < 0 || i >= ${rowCount}` : ''}) {
            continue;
          }
          for (int kw = 0; kw < ${g.filterWidth}; kw++) {
            int left = col + ${g.padInfo.left} - kw * ${g.dilationWidth};
            if (left < 0) break;
            int outCol = left / ${g.strideWidth};
            int j = outCol - ${colFirst};
            if (outCol * ${g.strideWidth} != left || outCol >= ${g.outWidth}${
                chunked ? ` || j < 0 || j >= ${colCount}` : ''}) {
              continue;
            }
            int k = (kh * ${g.filterWidth} + kw) * ${g.inChannels} + channel;
            sum += ${read};
          }
        }
        return sum;
      }`;
}

/**
 * GLSL that sets `vec4 result` to the image texel at output coordinates `o` from
 * `float gather(b, row, col, channel)`, or with `pairs` (channels last) from
 * `vec2 gatherPair(b, row, col, channel)` (channels channel, channel + 1). Values outside the
 * image are 0.
 */
export function imageTexel(g: ConvGeometry, pairs: boolean): string {
  if (g.dataFormat === 'channelsLast') {
    const [b, row, col, ch] = ['o.x', 'o.y', 'o.z', 'o.w'];
    const second = `${col} + 1 < ${g.inWidth}`;
    return pairs ? `
        vec4 result = vec4(gatherPair(${b}, ${row}, ${col}, ${ch}), 0., 0.);
        if (${second}) result.zw = gatherPair(${b}, ${row}, ${col} + 1, ${ch});` : `
        bool lastChannel = ${ch} + 1 >= ${g.inChannels};
        vec4 result = vec4(gather(${b}, ${row}, ${col}, ${ch}), 0., 0., 0.);
        if (!lastChannel) result.y = gather(${b}, ${row}, ${col}, ${ch} + 1);
        if (${second}) {
          result.z = gather(${b}, ${row}, ${col} + 1, ${ch});
          if (!lastChannel) result.w = gather(${b}, ${row}, ${col} + 1, ${ch} + 1);
        }`;
  }
  const [b, ch, row, col] = ['o.x', 'o.y', 'o.z', 'o.w'];
  return `
        bool nextRow = ${row} + 1 < ${g.inHeight};
        bool nextCol = ${col} + 1 < ${g.inWidth};
        vec4 result = vec4(gather(${b}, ${row}, ${col}, ${ch}), 0., 0., 0.);
        if (nextCol) result.y = gather(${b}, ${row}, ${col} + 1, ${ch});
        if (nextRow) {
          result.z = gather(${b}, ${row} + 1, ${col}, ${ch});
          if (nextCol) result.w = gather(${b}, ${row} + 1, ${col} + 1, ${ch});
        }`;
}

export class Col2imPackedProgram implements GPGPUProgram {
  variableNames = ['patches'];
  packedInputs = true;
  packedOutput = true;
  outputShape: number[];
  userCode: string;
  customUniforms = [{name: 'chunk', type: 'ivec4' as const}];

  constructor(g: ConvGeometry, addPrevious: boolean) {
    this.outputShape = g.inShape;
    if (addPrevious) this.variableNames.push('previous');
    const pairs = g.dataFormat === 'channelsLast' && g.inChannels % 2 === 0;
    const paired = pairs ? `
      vec2 channelPair(int i, int j, int k) {
        vec4 t = getPatches(i, j, k);
        return (j & 1) == 0 ? t.xy : t.zw;
      }
      ${col2imGather(g, 'gatherPair', 'vec2', 'channelPair(i, j, k)', true)}` : '';
    this.userCode = `
      ${PICK_VALUE_GLSL}
      ${col2imGather(g, 'gather', 'float', 'pickValue(getPatches(i, j, k), j, k)', true)}
      ${paired}

      void main() {
        ivec4 o = getOutputCoords();
        ${imageTexel(g, pairs)}
        ${addPrevious ? 'result += getPreviousAtOutCoords();' : ''}
        setOutput(result);
      }
    `;
  }
}

/**
 * A depthwise convolution (groups = inChannels, filter read as [kh, kw, 1, inChannels *
 * multiplier]) as one direct pass, without a patch matrix: each output value
 * (position, channel o = c * multiplier + m) sums kh * kw taps of input channel c. Its
 * im2col form, a patch matrix of kh * kw * inChannels columns and a GEMM of depth kh * kw
 * per channel, writes kh * kw times the input into the workspace to do one multiply-add per
 * value written; reading the taps straight from x does the same sums with a fraction of the
 * texture traffic (the im2col pass alone costs more than this whole pass). So it needs no
 * workspace, and no chunks. The bias and activation are applied as the GEMM does.
 *
 * Taps that fall in the padding are skipped (not multiplied by 0), as tfjs's depthwise
 * kernels do, so a filter holding Inf or NaN gives tfjs's results.
 *
 * Output layouts are the GEMM's (see gemm_packed_gpu.ts). Each output texel loops over the
 * taps once, reading each filter texel once. With channels last and multiplier 1 an input
 * texel holds two columns x the texel's two channels, and each input texel a filter row
 * needs is read once for all its taps (channelsLastBody); otherwise each of the texel's four
 * values reads its own input value.
 */
import type {GPGPUProgram} from '@tensorflow/tfjs-backend-webgl';
import type {ConvGeometry} from '../../geometry';
import {epilogueCode, GemmEpilogue, GemmOutputLayout} from './gemm_packed_gpu';
import {PICK_VALUE_GLSL} from './glsl_util';

export class DepthwisePackedProgram implements GPGPUProgram {
  variableNames: string[];
  packedInputs = true;
  packedOutput = true;
  outputShape: number[];
  userCode: string;

  /** `outputShape`: g.outShape as `layout` holds it (see runIm2colConv). */
  constructor(g: ConvGeometry, layout: GemmOutputLayout, outputShape: number[],
              epilogue: GemmEpilogue = {}) {
    this.outputShape = outputShape;
    this.variableNames = ['x', 'W'];
    const {activationSnippet, applyEpilogue} = epilogueCode(epilogue, this.variableNames);
    const multiplier = g.outChannels / g.inChannels;
    const channelsLast = g.dataFormat === 'channelsLast';
    const coords = {
      positionsByChannels: 'ivec4 o = getOutputCoords(); int b = o.x, r = o.y, c = o.z, d = o.w;',
      flatPositionsByChannels: `ivec3 o = getOutputCoords(); int b = o.x, d = o.z;
          int r = o.y / ${g.outWidth}, c = o.y - r * ${g.outWidth};`,
      channelsByPositions: 'ivec3 o = getOutputCoords(); int b = o.x, d = o.y, r = 0, c = o.z;',
      channelPlanes: 'ivec4 o = getOutputCoords(); int b = o.x, d = o.y, r = o.z, c = o.w;',
    }[layout];
    // The (row, column, channel) offsets of the texel's four values from (r, c, d).
    const offsets: Array<[number, number, number]> = {
      positionsByChannels: [[0, 0, 0], [0, 0, 1], [0, 1, 0], [0, 1, 1]],
      flatPositionsByChannels: [[0, 0, 0], [0, 0, 1], [0, 1, 0], [0, 1, 1]],
      channelsByPositions: [[0, 0, 0], [0, 1, 0], [0, 0, 1], [0, 1, 1]],
      channelPlanes: [[0, 0, 0], [0, 1, 0], [1, 0, 0], [1, 1, 0]],
    }[layout] as Array<[number, number, number]>;
    const {strideHeight: sh, strideWidth: sw, dilationHeight: dh, dilationWidth: dw} = g;
    const inside = (row: string, col: string) =>
        `${row} >= 0 && ${row} < ${g.inHeight} && ${col} >= 0 && ${col} < ${g.inWidth}`;

    let body: string;
    if (channelsLast && multiplier === 1) {
      body = channelsLastBody(g);
    } else {
      // Each value reads its own input value; the filter texel (channels d, d + 1) once.
      const read = channelsLast ? 'pickValue(getX(b, inRow, inCol, ch), inCol, ch)' :
                                  'pickValue(getX(b, ch, inRow, inCol), inRow, inCol)';
      const values = offsets.map(([dr, dc, dd], i) => `
            {
              int inRow = row0 + ${dr * sh} + kh * ${dh};
              int inCol = col0 + ${dc * sw} + kw * ${dw};
              if (valid[${i}] && ${inside('inRow', 'inCol')}) {
                int ch = ${dd === 0 ? 'ch0' : 'ch1'};
                acc[${i}] += ${read} * ${dd === 0 ? 'w0' : 'w1'};
              }
            }`).join('');
      const validity = offsets.map(([dr, dc, dd]) =>
          `r + ${dr} < ${g.outHeight} && c + ${dc} < ${g.outWidth} && d + ${dd} < ${g.outChannels}`);
      body = `
        vec4 acc = vec4(0.);
        bool valid[4] = bool[4](${validity.join(', ')});
        int ch0 = d / ${multiplier};
        int ch1 = (d + 1) / ${multiplier};
        int row0 = r * ${sh} - ${g.padInfo.top};
        int col0 = c * ${sw} - ${g.padInfo.left};
        for (int kh = 0; kh < ${g.filterHeight}; kh++) {
          for (int kw = 0; kw < ${g.filterWidth}; kw++) {
            vec4 wt = getW(kh, kw, 0, d);
            float w0 = (d & 1) == 0 ? wt.x : wt.y;
            float w1 = wt.y;
            ${values}
          }
        }`;
    }

    this.userCode = `
      ${PICK_VALUE_GLSL}
      ${activationSnippet}

      void main() {
        ${coords}
        ${body}
        vec4 result = acc;
        ${applyEpilogue}
        setOutput(result);
      }
    `;
  }
}

/**
 * Channels last, multiplier 1: output positions (r, c), (r, c + 1) (c even) x channels
 * d, d + 1. Along a filter row, tap kw of position s reads input column
 * col0 + kw * dilation + s * stride, col0 = c * stride - padLeft: its parity is known here
 * (c is even), so is the input texel (column pair) it lies in, relative to col0's. Each
 * distinct texel is read once per filter row; a column outside the input adds nothing.
 */
function channelsLastBody(g: ConvGeometry): string {
  const {strideWidth: sw, dilationWidth: dw} = g;
  const parity = g.padInfo.left % 2;
  const reads = new Map<number, string>();
  const valid = new Map<number, string>();
  const sums: string[] = [];
  for (let kw = 0; kw < g.filterWidth; kw++) {
    for (const s of [0, 1]) {
      const offset = kw * dw + s * sw;
      const texel = (parity + offset) >> 1;
      const half = (parity + offset) & 1 ? 'zw' : 'xy';
      reads.set(texel, `vec4 x${texel} = getX(b, inRow, 2 * (q + ${texel}), d);`);
      valid.set(offset, `bool in${offset} = ${s === 1 ? 'second && ' : ''}col0 + ${offset} >= 0 && ` +
                        `col0 + ${offset} < ${g.inWidth};`);
      sums.push(`if (in${offset}) acc.${s === 0 ? 'xy' : 'zw'} += x${texel}.${half} * w${kw};`);
    }
  }
  const weights = Array.from({length: g.filterWidth},
                             (_, kw) => `vec2 w${kw} = getW(kh, ${kw}, 0, d).xy;`);
  return `
        vec4 acc = vec4(0.);
        bool second = c + 1 < ${g.outWidth};
        int row0 = r * ${g.strideHeight} - ${g.padInfo.top};
        int col0 = c * ${sw} - ${g.padInfo.left};
        // col0's texel: col0 - ${parity} is even.
        int q = (col0 - ${parity}) / 2;
        ${[...valid.values()].join('\n        ')}
        for (int kh = 0; kh < ${g.filterHeight}; kh++) {
          int inRow = row0 + kh * ${g.dilationHeight};
          if (inRow < 0 || inRow >= ${g.inHeight}) continue;
          ${[...reads.values()].join('\n          ')}
          ${weights.join('\n          ')}
          ${sums.join('\n          ')}
        }`;
}

/**
 * The GEMM of the transposed convolution: rows of the patch-matrix gradient dP = dY · Wᵀ of
 * the convolution g, per channel group. Patch column k = tap t, input channel c (group gi,
 * local channel cl) of output position p is
 *
 *   dP[p, k] = sum over the group's output channels o of dy[p, o] * W[t, cl, o],
 *
 * the same columns as the forward patch matrix (all channels), so that col2im adds them
 * onto the image as for a plain convolution (Col2imPackedProgram).
 *
 * Output: [rows, cols, kh * kw * inChannels], packed like Im2colPackedProgram's (a texel:
 * two positions x two columns), for the output positions `firstPosition + row * outWidth +
 * col` (a chunk of whole output rows, or a column range of one row, starting at an even
 * column). Inputs: dy of g.outShape, W of g.filterShape ([kh, kw, inChannels / groups,
 * outChannels]), packed.
 *
 * With even channel counts per group (inputs and outputs), a texel's two columns are
 * channels c, c + 1 of one tap and group, and a step over output channels o, o + 1 reads one
 * dy texel (two positions x o, o + 1) and one filter texel (cl, cl + 1 x o, o + 1), as a
 * GEMM does. Otherwise (odd groups; depthwise ones take DepthwiseTransposePackedProgram
 * instead, though this program computes them too) each column sums its own group, the
 * channel pairs at the group's ends masked.
 */
import type {GPGPUProgram} from '@tensorflow/tfjs-backend-webgl';
import {ConvGeometry, patchLength} from '../../geometry';
import {GemmStep, unrolledSteps} from './gemm_packed_gpu';

export class PatchGradientPackedProgram implements GPGPUProgram {
  variableNames = ['dy', 'W'];
  packedInputs = true;
  packedOutput = true;
  outputShape: number[];
  userCode: string;
  customUniforms = [{name: 'firstPosition', type: 'int' as const}];

  constructor(g: ConvGeometry, rows: number, cols: number) {
    const depth = patchLength(g);
    this.outputShape = [rows, cols, depth];
    const groupIn = g.inChannels / g.groups;
    const groupOut = g.outChannels / g.groups;
    const channelsLast = g.dataFormat === 'channelsLast';
    // dy at positions (r, c), (r, c + 1) (c even), channels o, o + 1 (o even): a texel's
    // layout (position-major).
    const dyTexel = channelsLast ? `
      vec4 dyTexel(int b, int r, int c, int o) {
        return getDy(b, r, c, o);
      }` : `
      vec4 dyTexel(int b, int r, int c, int o) {
        bool odd = (r & 1) == 1;
        vec4 lo = getDy(b, o, r, c);
        vec4 hi = o + 1 < ${g.outChannels} ? getDy(b, o + 1, r, c) : vec4(0.);
        vec2 p = odd ? lo.zw : lo.xy;
        vec2 q = odd ? hi.zw : hi.xy;
        return vec4(p.x, q.x, p.y, q.y);
      }`;
    // Tap t and channel c of patch column k; the group, local channel and filter row.
    const locate = `
        int t = k / ${g.inChannels};
        int ch = k - t * ${g.inChannels};
        int gi = ch / ${groupIn};
        int cl = ch - gi * ${groupIn};
        int kh = t / ${g.filterWidth};
        int kw = t - kh * ${g.filterWidth};
        int o0 = gi * ${groupOut};`;
    let product: string;
    if (groupIn % 2 === 0 && groupOut % 2 === 0) {
      const step: GemmStep = (j, u) => ({
        reads: `vec4 a${u} = dyTexel(b, r, c, o0 + 2 * (${j}));
                vec4 w${u} = getW(kh, kw, cl, o0 + 2 * (${j}));`,
        sums: `acc += a${u}.xxzz * w${u}.xzxz + a${u}.yyww * w${u}.ywyw;`,
      });
      product = `
      vec4 columns(int b, int r, int c, int k) {
        ${locate}
        vec4 acc = vec4(0.);
        ${unrolledSteps(step, groupOut / 2)}
        return acc;
      }`;
    } else {
      // One column at a time; pairs (q, q + 1) from the even channel at or below the group's
      // first, the channels outside the group set to 0 (never multiplied: Inf * 0 is NaN).
      const pairs = Math.floor(groupOut / 2) + 1;
      const step: GemmStep = (j, u) => ({
        reads: `int q${u} = first + 2 * (${j});
                vec4 a${u} = dyTexel(b, r, c, q${u});
                vec4 t${u} = getW(kh, kw, cl, q${u});`,
        sums: `{
                  vec2 w = (cl & 1) == 0 ? t${u}.xy : t${u}.zw;
                  vec4 a = a${u};
                  if (q${u} < o0) { a.xz = vec2(0.); w.x = 0.; }
                  if (q${u} + 1 >= o1) { a.yw = vec2(0.); w.y = 0.; }
                  if (q${u} < o1) sum += vec2(dot(a.xy, w), dot(a.zw, w));
                }`,
      });
      product = `
      vec2 column(int b, int r, int c, int k) {
        ${locate}
        int o1 = o0 + ${groupOut};
        int first = o0 - (o0 & 1);
        vec2 sum = vec2(0.);
        ${unrolledSteps(step, pairs)}
        return sum;
      }

      vec4 columns(int b, int r, int c, int k) {
        vec2 s0 = column(b, r, c, k);
        vec2 s1 = k + 1 < ${depth} ? column(b, r, c, k + 1) : vec2(0.);
        return vec4(s0.x, s1.x, s0.y, s1.y);
      }`;
    }
    const positionsPerImage = g.outHeight * g.outWidth;
    this.userCode = `
      ${dyTexel}
      ${product}

      void main() {
        ivec3 rc = getOutputCoords();
        int pos = firstPosition + rc.x * ${g.outWidth} + rc.y;
        int b = pos / ${positionsPerImage};
        int rest = pos - b * ${positionsPerImage};
        int r = rest / ${g.outWidth};
        int c = rest - r * ${g.outWidth};
        vec4 result = columns(b, r, c, rc.z);
        if (rc.y + 1 >= ${cols}) result.zw = vec2(0.);
        setOutput(result);
      }
    `;
  }
}

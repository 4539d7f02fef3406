/**
 * Writes rows of the im2col patch matrix into a packed texture.
 *
 * Output: [groups, groupSize, patchLength], packed, so one texel holds two consecutive patch
 * rows x two consecutive taps. Patch row (g, s) is output position
 * `firstPosition + g * groupStride + s`, positions numbered (image, outRow, outCol) as in
 * src/geometry. The conv driver writes chunks of whole output rows (groupStride =
 * outWidth); the Im2col kernel writes one group per image (groupStride = outHeight *
 * outWidth). Taps past the patch length and rows past the group read 0, so the GEMM can
 * sum whole texels.
 *
 * Unlike tfjs's Im2ColPackedProgram (four sampler reads per texel), NHWC input with an even
 * channel count reads two: taps k and k + 1 are then channels c and c + 1 of one pixel, which
 * share an input texel.
 */
import type {GPGPUProgram} from '@tensorflow/tfjs-backend-webgl';
import {ConvGeometry, patchLength} from '../../geometry';
import {PICK_VALUE_GLSL} from './glsl_util';

export class Im2colPackedProgram implements GPGPUProgram {
  variableNames = ['x'];
  packedInputs = true;
  packedOutput = true;
  outputShape: number[];
  userCode: string;
  customUniforms = [{name: 'firstPosition', type: 'int' as const}];

  constructor(g: ConvGeometry, groups: number, groupSize: number, groupStride: number) {
    const depth = patchLength(g);
    this.outputShape = [groups, groupSize, depth];
    const channelsLast = g.dataFormat === 'channelsLast';
    const tapRow = g.filterWidth * g.inChannels;
    const read = channelsLast ? 'pickValue(getX(b, inRow, inCol, ch), inCol, ch)' :
                                'pickValue(getX(b, ch, inRow, inCol), inRow, inCol)';
    // Decodes tap k of the patch at (b, row0, col0) into an input pixel and channel.
    const locateTap = `
      int kh = k / ${tapRow};
      int kr = k - kh * ${tapRow};
      int kw = kr / ${g.inChannels};
      int ch = kr - kw * ${g.inChannels};
      int inRow = row0 + kh * ${g.dilationHeight};
      int inCol = col0 + kw * ${g.dilationWidth};
      bool inside = inRow >= 0 && inRow < ${g.inHeight} && inCol >= 0 && inCol < ${g.inWidth};`;
    const pairedTaps = channelsLast && g.inChannels % 2 === 0;
    const tapPair = pairedTaps ? `
      vec2 tapPair(int b, int row0, int col0, int k) {
        ${locateTap}
        if (!inside) return vec2(0.);
        vec4 block = getX(b, inRow, inCol, ch);
        return (inCol & 1) == 0 ? block.xy : block.zw;
      }` : `
      float tap(int b, int row0, int col0, int k) {
        ${locateTap}
        return inside ? ${read} : 0.;
      }
      vec2 tapPair(int b, int row0, int col0, int k) {
        return vec2(tap(b, row0, col0, k), k + 1 < ${depth} ? tap(b, row0, col0, k + 1) : 0.);
      }`;
    const positionsPerImage = g.outHeight * g.outWidth;
    this.userCode = `
      ${PICK_VALUE_GLSL}
      ${tapPair}

      // Taps k and k + 1 of the patch of output position pos.
      vec2 patchPair(int pos, int k) {
        int b = pos / ${positionsPerImage};
        int rest = pos - b * ${positionsPerImage};
        int outRow = rest / ${g.outWidth};
        int outCol = rest - outRow * ${g.outWidth};
        int row0 = outRow * ${g.strideHeight} - ${g.padInfo.top};
        int col0 = outCol * ${g.strideWidth} - ${g.padInfo.left};
        return tapPair(b, row0, col0, k);
      }

      void main() {
        ivec3 rc = getOutputCoords();
        int pos = firstPosition + rc.x * ${groupStride} + rc.y;
        vec4 result = vec4(patchPair(pos, rc.z), 0., 0.);
        if (rc.y + 1 < ${groupSize}) {
          result.zw = patchPair(pos + 1, rc.z);
        }
        setOutput(result);
      }
    `;
  }
}

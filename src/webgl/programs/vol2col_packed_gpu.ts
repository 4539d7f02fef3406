/**
 * vol2col, im2col's 3D form (Im2colPackedProgram's sibling): rows of the 3D patch matrix in a
 * packed texture.
 *
 * Output: [groups, groupSize, patchLength3d], packed, so one texel holds two consecutive
 * patch rows x two consecutive taps. Patch row (g, s) is output position
 * `firstPosition + g * groupStride + s`, positions numbered (image, outDepth, outRow,
 * outCol); taps in (kd, kh, kw, c) order, tfjs's Conv3D filter order. The conv driver writes
 * chunks of whole output rows (groupStride = outWidth); the Vol2col kernel writes one group
 * per image (groupStride = outDepth * outHeight * outWidth). Taps past the patch length,
 * rows past the group and taps over the padding read 0, so the GEMM can sum whole texels.
 *
 * Input `x` is read under a rank-4 shape with the same packed texels as its own: NDHWC
 * [batch * inDepth, inHeight, inWidth, inChannels], NCDHW [batch * inChannels, inDepth,
 * inHeight, inWidth]. NDHWC input with an even channel count reads one input texel per
 * output half-texel: taps k and k + 1 are then channels c and c + 1 of one voxel.
 */
import type {GPGPUProgram} from '@tensorflow/tfjs-backend-webgl';
import {Conv3dGeometry, patchLength3d} from '../../geometry';
import {PICK_VALUE_GLSL} from './glsl_util';

/** The rank-4 shape vol2col reads x (g.inShape) under: the same packed texels. */
export function volumeAs4d(g: Conv3dGeometry): [number, number, number, number] {
  return g.dataFormat === 'channelsLast' ?
      [g.batchSize * g.inDepth, g.inHeight, g.inWidth, g.inChannels] :
      [g.batchSize * g.inChannels, g.inDepth, g.inHeight, g.inWidth];
}

export class Vol2colPackedProgram implements GPGPUProgram {
  variableNames = ['x'];
  packedInputs = true;
  packedOutput = true;
  outputShape: number[];
  userCode: string;
  customUniforms = [{name: 'firstPosition', type: 'int' as const}];

  constructor(g: Conv3dGeometry, groups: number, groupSize: number, groupStride: number) {
    const depth = patchLength3d(g);
    this.outputShape = [groups, groupSize, depth];
    const channelsLast = g.dataFormat === 'channelsLast';
    const tapPlane = g.filterHeight * g.filterWidth * g.inChannels;
    const tapRow = g.filterWidth * g.inChannels;
    const read = channelsLast ?
        `pickValue(getX(b * ${g.inDepth} + inDepth, inRow, inCol, ch), inCol, ch)` :
        `pickValue(getX(b * ${g.inChannels} + ch, inDepth, inRow, inCol), inRow, inCol)`;
    // Decodes tap k of the window at (b, depth0, row0, col0) into an input voxel and channel.
    const locateTap = `
      int kd = k / ${tapPlane};
      int kr = k - kd * ${tapPlane};
      int kh = kr / ${tapRow};
      kr -= kh * ${tapRow};
      int kw = kr / ${g.inChannels};
      int ch = kr - kw * ${g.inChannels};
      int inDepth = depth0 + kd * ${g.dilationDepth};
      int inRow = row0 + kh * ${g.dilationHeight};
      int inCol = col0 + kw * ${g.dilationWidth};
      bool inside = inDepth >= 0 && inDepth < ${g.inDepth} && inRow >= 0 &&
          inRow < ${g.inHeight} && inCol >= 0 && inCol < ${g.inWidth};`;
    const window = 'int b, int depth0, int row0, int col0, int k';
    const pairedTaps = channelsLast && g.inChannels % 2 === 0;
    const tapPair = pairedTaps ? `
      vec2 tapPair(${window}) {
        ${locateTap}
        if (!inside) return vec2(0.);
        vec4 block = getX(b * ${g.inDepth} + inDepth, inRow, inCol, ch);
        return (inCol & 1) == 0 ? block.xy : block.zw;
      }` : `
      float tap(${window}) {
        ${locateTap}
        return inside ? ${read} : 0.;
      }
      vec2 tapPair(${window}) {
        return vec2(tap(b, depth0, row0, col0, k),
                    k + 1 < ${depth} ? tap(b, depth0, row0, col0, k + 1) : 0.);
      }`;
    const plane = g.outHeight * g.outWidth;
    const positionsPerImage = g.outDepth * plane;
    this.userCode = `
      ${PICK_VALUE_GLSL}
      ${tapPair}

      // Taps k and k + 1 of the patch of output position pos.
      vec2 patchPair(int pos, int k) {
        int b = pos / ${positionsPerImage};
        int rest = pos - b * ${positionsPerImage};
        int outDepth = rest / ${plane};
        rest -= outDepth * ${plane};
        int outRow = rest / ${g.outWidth};
        int outCol = rest - outRow * ${g.outWidth};
        return tapPair(b, outDepth * ${g.strideDepth} - ${g.padInfo.front},
                       outRow * ${g.strideHeight} - ${g.padInfo.top},
                       outCol * ${g.strideWidth} - ${g.padInfo.left}, k);
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

/**
 * The filter as the GEMM reads it: [patchLength, outChannels], packed, row k holding tap k
 * (kh, kw, c order) of every filter. Values past either edge are 0. A filter that is already
 * a packed texture with this block layout (1x1 taps, or an even channel count) skips this
 * pass (see conv_im2col.ts).
 *
 * A grouped convolution's filter [kh, kw, inChannels / groups, outChannels] gives the group
 * filter matrix the same way (g with the group's channel count as inChannels); where that
 * count is odd, `tapRows` (even) rows per tap keep each tap's rows on whole texels, the
 * extra rows 0 (see grouped_gemm_packed_gpu.ts).
 */
import type {GPGPUProgram} from '@tensorflow/tfjs-backend-webgl';
import {ConvGeometry, patchLength} from '../../geometry';
import {PICK_VALUE_GLSL} from './glsl_util';

export class FilterMatrixPackedProgram implements GPGPUProgram {
  variableNames = ['W'];
  packedInputs = true;
  packedOutput = true;
  outputShape: number[];
  userCode: string;

  constructor(g: ConvGeometry, tapRows = g.inChannels) {
    const padded = tapRows !== g.inChannels;
    const depth = padded ? g.filterHeight * g.filterWidth * tapRows : patchLength(g);
    this.outputShape = [depth, g.outChannels];
    const tapRow = g.filterWidth * g.inChannels;
    const locate = padded ? `
        int t = k / ${tapRows};
        int ch = k - t * ${tapRows};
        if (ch >= ${g.inChannels}) return 0.;
        int kh = t / ${g.filterWidth};
        int kw = t - kh * ${g.filterWidth};` : `
        int kh = k / ${tapRow};
        int kr = k - kh * ${tapRow};
        int kw = kr / ${g.inChannels};
        int ch = kr - kw * ${g.inChannels};`;
    this.userCode = `
      ${PICK_VALUE_GLSL}

      float weight(int k, int d) {
        if (d >= ${g.outChannels} || k >= ${depth}) return 0.;${locate}
        return pickValue(getW(kh, kw, ch, d), ch, d);
      }

      void main() {
        ivec2 kd = getOutputCoords();
        setOutput(vec4(weight(kd.x, kd.y), weight(kd.x, kd.y + 1),
                       weight(kd.x + 1, kd.y), weight(kd.x + 1, kd.y + 1)));
      }
    `;
  }
}

/**
 * The filter as the GEMM reads it: [outChannels, patchLength], packed, row d holding filter
 * d's taps in (kh, kw, c) order. Stored transposed so the GEMM's walk along the taps of one
 * texel row of filters is a run of consecutive texels, like its walk along a patch row.
 * Values past either edge are 0.
 */
import type {GPGPUProgram} from '@tensorflow/tfjs-backend-webgl';
import {ConvGeometry, patchLength} from '../../conv_geometry';
import {PICK_VALUE_GLSL} from './glsl_util';

export class FilterMatrixPackedProgram implements GPGPUProgram {
  variableNames = ['W'];
  packedInputs = true;
  packedOutput = true;
  outputShape: number[];
  userCode: string;

  constructor(g: ConvGeometry) {
    const depth = patchLength(g);
    this.outputShape = [g.outChannels, depth];
    const tapRow = g.filterWidth * g.inChannels;
    this.userCode = `
      ${PICK_VALUE_GLSL}

      float weight(int d, int k) {
        if (d >= ${g.outChannels} || k >= ${depth}) return 0.;
        int kh = k / ${tapRow};
        int kr = k - kh * ${tapRow};
        int kw = kr / ${g.inChannels};
        int ch = kr - kw * ${g.inChannels};
        return pickValue(getW(kh, kw, ch, d), ch, d);
      }

      void main() {
        ivec2 dk = getOutputCoords();
        setOutput(vec4(weight(dk.x, dk.y), weight(dk.x, dk.y + 1),
                       weight(dk.x + 1, dk.y), weight(dk.x + 1, dk.y + 1)));
      }
    `;
  }
}

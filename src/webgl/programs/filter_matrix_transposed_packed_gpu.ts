/**
 * The filter matrix transposed, as the transposed convolution's GEMM dY · Wᵀ reads it:
 * [outChannels, patchLength], packed, row j holding output channel j's weights over the taps
 * (tap, c) in the filter's own order. Values past either edge are 0.
 *
 * Input `W` is read as [taps, inChannels, outChannels] (a 3D filter [fd, fh, fw, inC, outC]
 * or a 2D one [fh, fw, inC, outC]: the same packed texels). With an even channel count one
 * filter texel is one output texel, transposed.
 */
import type {GPGPUProgram} from '@tensorflow/tfjs-backend-webgl';
import {PICK_VALUE_GLSL} from './glsl_util';

export class FilterMatrixTransposedPackedProgram implements GPGPUProgram {
  variableNames = ['W'];
  packedInputs = true;
  packedOutput = true;
  outputShape: number[];
  userCode: string;

  constructor(taps: number, inChannels: number, outChannels: number) {
    const depth = taps * inChannels;
    this.outputShape = [outChannels, depth];
    const main = inChannels % 2 === 0 ? `
      void main() {
        ivec2 jk = getOutputCoords();
        int t = jk.y / ${inChannels};
        vec4 block = getW(t, jk.y - t * ${inChannels}, jk.x).xzyw;
        if (jk.x + 1 >= ${outChannels}) block.zw = vec2(0.);
        setOutput(block);
      }` : `
      float weight(int j, int k) {
        if (j >= ${outChannels} || k >= ${depth}) return 0.;
        int t = k / ${inChannels};
        int ch = k - t * ${inChannels};
        return pickValue(getW(t, ch, j), ch, j);
      }

      void main() {
        ivec2 jk = getOutputCoords();
        setOutput(vec4(weight(jk.x, jk.y), weight(jk.x, jk.y + 1),
                       weight(jk.x + 1, jk.y), weight(jk.x + 1, jk.y + 1)));
      }`;
    this.userCode = `
      ${PICK_VALUE_GLSL}
      ${main}
    `;
  }
}

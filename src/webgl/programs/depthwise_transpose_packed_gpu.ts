/**
 * The transposed depthwise convolution (the input gradient of a depthwise one; groups =
 * inChannels, filter read as [kh, kw, 1, inChannels * multiplier]) as one direct pass: the
 * col2im gather of Col2imPackedProgram with each patch-gradient entry computed where it is
 * read instead of stored, dP[p, (t, c)] = sum over m of dy[p, c * multiplier + m] *
 * W[t, c * multiplier + m]. That entry is a dot product of `multiplier` terms, so storing the
 * patch gradient (kh * kw values per dy value) and reading it back costs more than the
 * products themselves: this pass does the same sums with no workspace and no chunks.
 *
 * Input dy of g.outShape, W of g.filterShape; output the image (g.inShape), packed. With
 * channels last and multiplier 1, a dy texel gives both channels of an output texel's column.
 */
import type {GPGPUProgram} from '@tensorflow/tfjs-backend-webgl';
import type {ConvGeometry} from '../../geometry';
import {col2imGather, imageTexel} from './col2im_packed_gpu';
import {PICK_VALUE_GLSL} from './glsl_util';

export class DepthwiseTransposePackedProgram implements GPGPUProgram {
  variableNames = ['dy', 'W'];
  packedInputs = true;
  packedOutput = true;
  outputShape: number[];
  userCode: string;

  constructor(g: ConvGeometry) {
    this.outputShape = g.inShape;
    const multiplier = g.outChannels / g.inChannels;
    const channelsLast = g.dataFormat === 'channelsLast';
    const pairs = channelsLast && multiplier === 1;
    const dyValue = channelsLast ? 'pickValue(getDy(b, outRow, outCol, o), outCol, o)' :
                                   'pickValue(getDy(b, o, outRow, outCol), outRow, outCol)';
    const paired = pairs ? `
      vec2 entryPair(int b, int outRow, int outCol, int kh, int kw, int channel) {
        vec4 t = getDy(b, outRow, outCol, channel);
        return ((outCol & 1) == 0 ? t.xy : t.zw) * getW(kh, kw, 0, channel).xy;
      }
      ${col2imGather(g, 'gatherPair', 'vec2', 'entryPair(b, outRow, outCol, kh, kw, channel)',
                     false)}` : '';
    this.userCode = `
      ${PICK_VALUE_GLSL}

      // Patch-gradient entry (output position, tap (kh, kw), input channel).
      float entry(int b, int outRow, int outCol, int kh, int kw, int channel) {
        float sum = 0.;
        for (int m = 0; m < ${multiplier}; m++) {
          int o = channel * ${multiplier} + m;
          sum += ${dyValue} * pickValue(getW(kh, kw, 0, o), 0, o);
        }
        return sum;
      }
      ${col2imGather(g, 'gather', 'float', 'entry(b, outRow, outCol, kh, kw, channel)', false)}
      ${paired}

      void main() {
        ivec4 o = getOutputCoords();
        ${imageTexel(g, pairs)}
        setOutput(result);
      }
    `;
  }
}

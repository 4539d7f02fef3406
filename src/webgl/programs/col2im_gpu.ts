/**
 * col2im on the GPU, as a gather: each input position sums the patch-matrix entries that
 * read it, i.e. for every tap (kh, kw) whose window position lands on the stride grid
 * inside the output. Same sums as the cpu's scatter-add, without atomics.
 *
 * Input `patches`: [batch, outHeight * outWidth, kh * kw * inChannels] (unpacked).
 * Output: the image, NHWC [batch, inH, inW, inC] or NCHW [batch, inC, inH, inW].
 */
import type {GPGPUProgram} from '@tensorflow/tfjs-backend-webgl';
import type {ConvGeometry} from '../../geometry';

export class Col2imProgram implements GPGPUProgram {
  variableNames = ['patches'];
  outputShape: number[];
  userCode: string;

  constructor(g: ConvGeometry) {
    const channelsLast = g.dataFormat === 'channelsLast';
    this.outputShape = channelsLast ? [g.batchSize, g.inHeight, g.inWidth, g.inChannels] :
                                      [g.batchSize, g.inChannels, g.inHeight, g.inWidth];
    const [row, col, channel] = channelsLast ? ['coords.y', 'coords.z', 'coords.w'] :
                                               ['coords.z', 'coords.w', 'coords.y'];
    this.userCode = `
      void main() {
        ivec4 coords = getOutputCoords();
        int batch = coords.x;
        int row = ${row};
        int col = ${col};
        int channel = ${channel};
        float sum = 0.0;
        for (int kh = 0; kh < ${g.filterHeight}; kh++) {
          // Window top that puts tap kh on this row; it must be a stride multiple in range.
          int top = row + ${g.padInfo.top} - kh * ${g.dilationHeight};
          if (top < 0) break;
          int outRow = top / ${g.strideHeight};
          if (outRow * ${g.strideHeight} != top || outRow >= ${g.outHeight}) continue;
          for (int kw = 0; kw < ${g.filterWidth}; kw++) {
            int left = col + ${g.padInfo.left} - kw * ${g.dilationWidth};
            if (left < 0) break;
            int outCol = left / ${g.strideWidth};
            if (outCol * ${g.strideWidth} != left || outCol >= ${g.outWidth}) continue;
            sum += getPatches(batch, outRow * ${g.outWidth} + outCol,
                              (kh * ${g.filterWidth} + kw) * ${g.inChannels} + channel);
          }
        }
        setOutput(sum);
      }
    `;
  }
}

/**
 * Splits the rows of packed planes into slices: [planes, slices * rows, cols] becomes
 * [planes * slices, rows, cols], the same values in the same order, in the packed texels of
 * the new shape. A copy is needed only where `rows` is odd (else the texels are the same):
 * then a texel of the input pairs the last row of one slice with the first of the next.
 *
 * The NCDHW 3D convolution's GEMM writes channel planes of (outDepth * outHeight) rows
 * ([batch, outC, outDepth * outHeight, outWidth]); this gives them the texels of
 * [batch, outC, outDepth, outHeight, outWidth].
 */
import type {GPGPUProgram} from '@tensorflow/tfjs-backend-webgl';
import {PICK_VALUE_GLSL} from './glsl_util';

export class SplitRowsPackedProgram implements GPGPUProgram {
  variableNames = ['A'];
  packedInputs = true;
  packedOutput = true;
  outputShape: number[];
  userCode: string;

  constructor(planes: number, slices: number, rows: number, cols: number) {
    this.outputShape = [planes * slices, rows, cols];
    this.userCode = `
      ${PICK_VALUE_GLSL}

      float value(int plane, int row, int col) {
        return pickValue(getA(plane, row, col), row, col);
      }

      void main() {
        ivec3 o = getOutputCoords();
        int plane = o.x / ${slices};
        int row = (o.x - plane * ${slices}) * ${rows} + o.y;
        bool lastColumn = o.z + 1 >= ${cols};
        vec4 result = vec4(value(plane, row, o.z), 0., 0., 0.);
        if (!lastColumn) result.y = value(plane, row, o.z + 1);
        if (o.y + 1 < ${rows}) {
          result.z = value(plane, row + 1, o.z);
          if (!lastColumn) result.w = value(plane, row + 1, o.z + 1);
        }
        setOutput(result);
      }
    `;
  }
}

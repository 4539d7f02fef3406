/**
 * col2vol, vol2col's adjoint (Col2imProgram's 3D sibling), as a gather: each input voxel sums
 * the patch-gradient entries that read it, i.e. for every tap (kd, kh, kw) whose window
 * lands on the stride grid inside the output. Same sums as the cpu's scatter-add
 * (addVolumeRows), without atomics.
 *
 * Input `patchGradient`: the patch-matrix rows of one chunk of output positions, [rows, cols,
 * patchLength3d] packed (GemmPackedProgram's output): the uniform `chunk` = (first flat
 * output row, first column, rows, columns) says which positions (flat row = (image *
 * outDepth + outDepthIndex) * outHeight + outRow). Where the patch gradient comes in several
 * chunks, each pass adds its chunk onto the `previous` pass's image.
 *
 * Output: the image (g.inShape) under the rank-4 shape vol2col reads x under (volumeAs4d),
 * packed: NDHWC [batch * inDepth, inHeight, inWidth, inChannels], NCDHW [batch * inChannels,
 * inDepth, inHeight, inWidth]. With NDHWC and an even channel count, one patch texel gives two
 * channels of a voxel. A texel whose voxels no window of the chunk's rows reaches only
 * carries the previous pass's values over (one read), so a pass costs about its chunk's share.
 */
import type {GPGPUProgram} from '@tensorflow/tfjs-backend-webgl';
import type {Conv3dGeometry} from '../../geometry';
import {PICK_VALUE_GLSL} from './glsl_util';
import {volumeAs4d} from './vol2col_packed_gpu';

export class Col2volPackedProgram implements GPGPUProgram {
  variableNames = ['patchGradient'];
  packedInputs = true;
  packedOutput = true;
  outputShape: number[];
  userCode: string;
  customUniforms = [{name: 'chunk', type: 'ivec4' as const}];

  constructor(g: Conv3dGeometry, accumulate: boolean) {
    this.outputShape = volumeAs4d(g);
    if (accumulate) this.variableNames.push('previous');
    const channelsLast = g.dataFormat === 'channelsLast';
    const pairs = channelsLast && g.inChannels % 2 === 0;
    // Visits each patch entry of voxel (b, d, r, c), channel `channel`, inside the chunk:
    // `visit` sees ri, ci (the entry's patch row in the chunk) and k (its tap).
    const gather = (visit: string) => `
        for (int kd = 0; kd < ${g.filterDepth}; kd++) {
          // Window front that puts tap kd on this depth; it must be a stride multiple in range.
          int front = d + ${g.padInfo.front} - kd * ${g.dilationDepth};
          if (front < 0) break;
          int outDepth = front / ${g.strideDepth};
          if (outDepth * ${g.strideDepth} != front || outDepth >= ${g.outDepth}) continue;
          for (int kh = 0; kh < ${g.filterHeight}; kh++) {
            int top = r + ${g.padInfo.top} - kh * ${g.dilationHeight};
            if (top < 0) break;
            int outRow = top / ${g.strideHeight};
            if (outRow * ${g.strideHeight} != top || outRow >= ${g.outHeight}) continue;
            int ri = (b * ${g.outDepth} + outDepth) * ${g.outHeight} + outRow - chunk.x;
            if (ri < 0 || ri >= chunk.z) continue;
            for (int kw = 0; kw < ${g.filterWidth}; kw++) {
              int left = c + ${g.padInfo.left} - kw * ${g.dilationWidth};
              if (left < 0) break;
              int outCol = left / ${g.strideWidth};
              if (outCol * ${g.strideWidth} != left || outCol >= ${g.outWidth}) continue;
              int ci = outCol - chunk.y;
              if (ci < 0 || ci >= chunk.w) continue;
              int k = ((kd * ${g.filterHeight} + kh) * ${g.filterWidth} + kw) * ${g.inChannels} +
                  channel;
              ${visit}
            }
          }
        }`;
    const sums = pairs ? `
      // Channels channel and channel + 1 (even) of voxel (b, d, r, c).
      vec2 voxelPair(int b, int d, int r, int c, int channel) {
        vec2 sum = vec2(0.);
        ${gather(`vec4 block = getPatchGradient(ri, ci, k);
              sum += (ci & 1) == 0 ? block.xy : block.zw;`)}
        return sum;
      }` : `
      float voxel(int b, int d, int r, int c, int channel) {
        float sum = 0.;
        ${gather('sum += pickValue(getPatchGradient(ri, ci, k), ci, k);')}
        return sum;
      }`;
    // Whether a window of the chunk's flat output rows reaches input depth d, rows r0 .. r1 of
    // image b: the flat rows of the windows that do run from (b, first outDepth, first
    // outRow) to (b, last outDepth, last outRow).
    const reach = `
      // Output indices whose window's taps reach input index i: [first, last] (first > last:
      // none), without dividing negative numbers.
      ivec2 windows(int i, int pad, int taps, int dilation, int stride, int outSize) {
        int last = i + pad;
        int first = last - (taps - 1) * dilation;
        first = first <= 0 ? 0 : (first + stride - 1) / stride;
        return ivec2(first, min(last / stride, outSize - 1));
      }

      bool chunkReaches(int b, int d, int r0, int r1) {
        ivec2 depths = windows(d, ${g.padInfo.front}, ${g.filterDepth}, ${g.dilationDepth},
                               ${g.strideDepth}, ${g.outDepth});
        ivec2 rows = ivec2(windows(r0, ${g.padInfo.top}, ${g.filterHeight}, ${g.dilationHeight},
                                   ${g.strideHeight}, ${g.outHeight}).x,
                           windows(r1, ${g.padInfo.top}, ${g.filterHeight}, ${g.dilationHeight},
                                   ${g.strideHeight}, ${g.outHeight}).y);
        if (depths.x > depths.y || rows.x > rows.y) return false;
        int first = (b * ${g.outDepth} + depths.x) * ${g.outHeight} + rows.x;
        int last = (b * ${g.outDepth} + depths.y) * ${g.outHeight} + rows.y;
        return last >= chunk.x && first < chunk.x + chunk.z;
      }`;
    const carry = accumulate ? 'getPreviousAtOutCoords()' : 'vec4(0.)';
    // The four values of the output texel at o (two columns x two channels, or two rows x two
    // columns of one channel plane).
    let texel: string;
    if (channelsLast) {
      const decode = `
        int b = o.x / ${g.inDepth};
        int d = o.x - b * ${g.inDepth};
        if (!chunkReaches(b, d, o.y, o.y)) {
          setOutput(${carry});
          return;
        }`;
      texel = pairs ? `${decode}
        vec4 result = vec4(voxelPair(b, d, o.y, o.z, o.w), 0., 0.);
        if (o.z + 1 < ${g.inWidth}) result.zw = voxelPair(b, d, o.y, o.z + 1, o.w);` : `${decode}
        bool lastChannel = o.w + 1 >= ${g.inChannels};
        vec4 result = vec4(voxel(b, d, o.y, o.z, o.w), 0., 0., 0.);
        if (!lastChannel) result.y = voxel(b, d, o.y, o.z, o.w + 1);
        if (o.z + 1 < ${g.inWidth}) {
          result.z = voxel(b, d, o.y, o.z + 1, o.w);
          if (!lastChannel) result.w = voxel(b, d, o.y, o.z + 1, o.w + 1);
        }`;
    } else {
      texel = `
        int b = o.x / ${g.inChannels};
        int channel = o.x - b * ${g.inChannels};
        if (!chunkReaches(b, o.y, o.z, min(o.z + 1, ${g.inHeight - 1}))) {
          setOutput(${carry});
          return;
        }
        bool lastColumn = o.w + 1 >= ${g.inWidth};
        vec4 result = vec4(voxel(b, o.y, o.z, o.w, channel), 0., 0., 0.);
        if (!lastColumn) result.y = voxel(b, o.y, o.z, o.w + 1, channel);
        if (o.z + 1 < ${g.inHeight}) {
          result.z = voxel(b, o.y, o.z + 1, o.w, channel);
          if (!lastColumn) result.w = voxel(b, o.y, o.z + 1, o.w + 1, channel);
        }`;
    }
    this.userCode = `
      ${PICK_VALUE_GLSL}
      ${reach}
      ${sums}

      void main() {
        ivec4 o = getOutputCoords();
        ${texel}
        ${accumulate ? 'result += getPreviousAtOutCoords();' : ''}
        setOutput(result);
      }
    `;
  }
}

/**
 * The convolution's GEMM: patch matrix x filter matrix, written straight into the output
 * tensor's layout, with an optional epilogue (bias, activation, prelu weights, leakyrelu
 * alpha) like tfjs's MatMulPackedProgram, so a fused conv is the same single pass.
 *
 * Inputs: `patchMatrix` [rows, cols, depth] from Im2colPackedProgram (one chunk of output
 * rows x columns), `filterMatrix` [outChannels, depth] from FilterMatrixPackedProgram.
 * Each fragment computes one output texel (2x2 values) and reads each input texel it needs
 * once, walking both matrices' texels in order with `texelFetch` (see glsl_util.ts).
 *
 * Output layouts (the packed texel of each):
 *   positionsByChannels  NHWC [batch, outH, outW, outC]: 2 columns x 2 channels
 *   channelsByPositions  NCW [batch, outC, outW]: 2 channels x 2 columns
 *   channelPlanes        NCHW [batch, outC, outH, outW]: 2 rows x 2 columns of one channel
 *
 * The uniform `chunk` = (first flat output row, first column, rows, columns) says which
 * output positions this pass's patch matrix covers (flat row = image * outH + outRow).
 * When the convolution runs in several chunks, texels outside the chunk write 0 (first
 * pass) or carry the previous pass's output, so the last pass holds the whole result.
 */
import type {GPGPUProgram} from '@tensorflow/tfjs-backend-webgl';
import {TEXEL_WALK_GLSL} from './glsl_util';

export type GemmOutputLayout = 'positionsByChannels' | 'channelsByPositions' | 'channelPlanes';

/** What texels outside this pass's chunk hold. */
export type GemmOutsideChunk = 'nothing' | 'zeros' | 'previous';

/** The epilogue, as tfjs's fused kernels describe it. */
export interface GemmEpilogue {
  /** Adds the input `bias`, broadcast against the output. */
  addBias?: boolean;
  /**
   * GLSL body of `vec4 activation(vec4 x)` (tfjs's packed activation snippets); with prelu or
   * leakyrelu, the body of `vec4 activation(vec4 a)` that reads `b`, as in tfjs.
   */
  activation?: string;
  /** Input `preluActivationWeights`, broadcast against the output. */
  hasPreluActivation?: boolean;
  /** Input `leakyreluAlpha` (a scalar tensor). */
  hasLeakyreluActivation?: boolean;
}

export interface GemmShape {
  outputShape: number[];
  layout: GemmOutputLayout;
  outHeight: number;
  /** [rows, cols, depth] of the patch matrix chunk. */
  patchShape: [number, number, number];
  /** Widths, in texels, of the two input textures. */
  patchTexelWidth: number;
  filterTexelWidth: number;
  outside: GemmOutsideChunk;
}

export class GemmPackedProgram implements GPGPUProgram {
  variableNames = ['patchMatrix', 'filterMatrix'];
  packedInputs = true;
  packedOutput = true;
  outputShape: number[];
  userCode: string;
  customUniforms = [{name: 'chunk', type: 'ivec4' as const}];

  constructor(shape: GemmShape, epilogue: GemmEpilogue = {}) {
    const {layout, outHeight, patchShape, patchTexelWidth, filterTexelWidth, outside} = shape;
    this.outputShape = shape.outputShape;
    const depthTexels = Math.ceil(patchShape[2] / 2);
    const rowTexels = Math.ceil(patchShape[1] / 2) * depthTexels;

    const coords = {
      positionsByChannels: 'ivec4 o = getOutputCoords(); int b = o.x, r = o.y, c = o.z, d = o.w;',
      channelsByPositions: 'ivec3 o = getOutputCoords(); int b = o.x, d = o.y, r = 0, c = o.z;',
      channelPlanes: 'ivec4 o = getOutputCoords(); int b = o.x, d = o.y, r = o.z, c = o.w;',
    }[layout];

    let leaveChunk = '';
    if (outside === 'previous') this.variableNames.push('previous');
    if (outside !== 'nothing') {
      leaveChunk = `
        if (ri < 0 || ri >= chunk.z || ci < 0 || ci >= chunk.w) {
          setOutput(${outside === 'previous' ? 'getPreviousAtOutCoords()' : 'vec4(0.)'});
          return;
        }`;
    }

    // Sums over the depth, one patch texel (2 positions x 2 taps) and one filter texel
    // (2 channels x 2 taps) per step.
    const walk = `
        ivec2 pa = texelAt(aIndex, ${patchTexelWidth});
        ivec2 pw = texelAt(wIndex, ${filterTexelWidth});`;
    const step = `
          pa = nextTexel(pa, ${patchTexelWidth});
          pw = nextTexel(pw, ${filterTexelWidth});`;
    let product: string;
    if (layout !== 'channelPlanes') {
      product = `
      vec4 product(int aIndex, int wIndex, int ri, int r, int d) {
        vec4 acc = vec4(0.);
        ${walk}
        for (int i = 0; i < ${depthTexels}; i++) {
          vec4 a = texelFetch(patchMatrix, pa, 0);
          vec4 w = texelFetch(filterMatrix, pw, 0);
          acc += a.xxzz * w.xzxz + a.yyww * w.ywyw;
          ${step}
        }
        return ${layout === 'channelsByPositions' ? 'acc.xzyw' : 'acc'};
      }`;
    } else {
      // Two output rows: the patch rows ri and ri + 1, one patch texel each.
      product = `
      vec4 product(int aIndex, int wIndex, int ri, int r, int d) {
        vec4 acc = vec4(0.);
        bool odd = (d & 1) == 1;
        ${walk}
        if (r + 1 < ${outHeight} && ri + 1 < chunk.z) {
          ivec2 pb = texelAt(aIndex + ${rowTexels}, ${patchTexelWidth});
          for (int i = 0; i < ${depthTexels}; i++) {
            vec4 a0 = texelFetch(patchMatrix, pa, 0);
            vec4 a1 = texelFetch(patchMatrix, pb, 0);
            vec4 w = texelFetch(filterMatrix, pw, 0);
            vec2 taps = odd ? w.zw : w.xy;
            acc += vec4(a0.xz, a1.xz) * taps.x + vec4(a0.yw, a1.yw) * taps.y;
            pb = nextTexel(pb, ${patchTexelWidth});
            ${step}
          }
        } else {
          for (int i = 0; i < ${depthTexels}; i++) {
            vec4 a0 = texelFetch(patchMatrix, pa, 0);
            vec4 w = texelFetch(filterMatrix, pw, 0);
            vec2 taps = odd ? w.zw : w.xy;
            acc.xy += a0.xz * taps.x + a0.yw * taps.y;
            ${step}
          }
        }
        return acc;
      }`;
    }

    let activationSnippet = '';
    let applyActivation = '';
    if (epilogue.activation) {
      const weights = epilogue.hasPreluActivation ? 'getPreluActivationWeightsAtOutCoords()' :
          epilogue.hasLeakyreluActivation ? 'getLeakyreluAlphaAtOutCoords()' : null;
      activationSnippet = weights == null ?
          `vec4 activation(vec4 x) { ${epilogue.activation} }` :
          `vec4 activation(vec4 a) { vec4 b = ${weights}; ${epilogue.activation} }`;
      applyActivation = 'result = activation(result);';
    }
    if (epilogue.addBias) this.variableNames.push('bias');
    if (epilogue.hasPreluActivation) this.variableNames.push('preluActivationWeights');
    if (epilogue.hasLeakyreluActivation) this.variableNames.push('leakyreluAlpha');

    this.userCode = `
      ${TEXEL_WALK_GLSL}
      ${activationSnippet}
      ${product}

      void main() {
        ${coords}
        int ri = b * ${outHeight} + r - chunk.x;
        int ci = c - chunk.y;
        ${leaveChunk}
        vec4 result = product((ri * ${Math.ceil(patchShape[1] / 2)} + ci / 2) * ${depthTexels},
                              (d / 2) * ${depthTexels}, ri, r, d);
        ${epilogue.addBias ? 'result += getBiasAtOutCoords();' : ''}
        ${applyActivation}
        setOutput(result);
      }
    `;
  }
}

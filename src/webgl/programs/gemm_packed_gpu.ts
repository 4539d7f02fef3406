/**
 * The convolution's GEMM: patch matrix x filter matrix, written straight into the output
 * tensor's layout, with an optional epilogue (bias, activation, prelu weights, leakyrelu
 * alpha) like tfjs's MatMulPackedProgram, so a fused conv is the same single pass.
 *
 * Inputs: `patchMatrix` [rows, cols, depth] from Im2colPackedProgram (one chunk of output
 * rows x columns), `filterMatrix` [depth, outChannels] from FilterMatrixPackedProgram.
 * Each fragment computes one output texel (2x2 values) and reads each input texel it needs
 * once, walking both matrices' texels in order (see glsl_util.ts: TEXEL_WALK_GLSL, readTexel).
 *
 * Output layouts (the packed texel of each):
 *   positionsByChannels  NHWC [batch, outH, outW, outC]: 2 columns x 2 channels
 *   flatPositionsByChannels  NHWC as [batch, outH * outW, outC]: 2 positions x 2 channels,
 *                        the same texels as positionsByChannels where outW is even or
 *                        outH is 1 (as a reshape-free tfjs reshape would leave them)
 *   channelsByPositions  NCW [batch, outC, outW]: 2 channels x 2 columns
 *   channelPlanes        NCHW [batch, outC, outH, outW]: 2 rows x 2 columns of one channel
 *
 * The uniform `chunk` = (first flat output row, first column, rows, columns) says which
 * output positions this pass's patch matrix covers (flat row = image * outH + outRow).
 * When the convolution runs in several chunks, texels outside the chunk write 0 (first
 * pass) or carry the previous pass's output, so the last pass holds the whole result.
 */
import type {GPGPUProgram} from '@tensorflow/tfjs-backend-webgl';
import {readTexel, TEXEL_WALK_GLSL} from './glsl_util';

export type GemmOutputLayout =
    'positionsByChannels' | 'flatPositionsByChannels' | 'channelsByPositions' | 'channelPlanes';

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
  outWidth: number;
  /** [rows, cols, depth] of the patch matrix chunk. */
  patchShape: [number, number, number];
  outputChannels: number;
  /** [width, height], in texels, of the two input textures. */
  patchTexelSize: [number, number];
  filterTexelSize: [number, number];
  outside: GemmOutsideChunk;
}

/**
 * The epilogue in GLSL, for a packed program whose output is the convolution's: the
 * `activation` function to declare, and the statements that apply bias and activation to
 * `vec4 result`. Appends the epilogue's inputs (bias, preluActivationWeights,
 * leakyreluAlpha: the order the driver passes them in) to `variableNames`.
 */
export function epilogueCode(epilogue: GemmEpilogue, variableNames: string[]):
    {activationSnippet: string, applyEpilogue: string} {
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
  if (epilogue.addBias) variableNames.push('bias');
  if (epilogue.hasPreluActivation) variableNames.push('preluActivationWeights');
  if (epilogue.hasLeakyreluActivation) variableNames.push('leakyreluAlpha');
  const applyEpilogue = `${epilogue.addBias ? 'result += getBiasAtOutCoords();' : ''}
        ${applyActivation}`;
  return {activationSnippet, applyEpilogue};
}

/** Depth steps per iteration of the GEMM's straight loop. */
export const UNROLL = 4;

/** One depth step: reads into variables suffixed `u`, then the sums that use them. */
export type GemmStep = (j: string, u: number) => {reads: string, sums: string};

/**
 * Steps `js` as one block: every read first, then every sum (on SwiftShader faster than
 * read-multiply-read-multiply).
 */
export function stepBlock(step: GemmStep, js: string[]): string {
  const steps = js.map((j, u) => step(j, u));
  return `{
          ${steps.map(s => s.reads).join('\n')}
          ${steps.map(s => s.sums).join('\n')}
        }`;
}

/**
 * `count` steps j = 0 .. count - 1 (constant): UNROLL per loop iteration, the rest after.
 * `offset` (a GLSL expression, or '') is added to each j.
 */
export function unrolledSteps(step: GemmStep, count: number, offset = ''): string {
  const at = (j: string) => offset === '' ? j : `${offset} + ${j}`;
  const unrolled = count - count % UNROLL;
  const rest = Array.from({length: count - unrolled}, (_, u) => at(`${unrolled + u}`));
  return (unrolled > 0 ? `for (int i = 0; i < ${unrolled}; i += ${UNROLL}) {
          ${stepBlock(step, Array.from({length: UNROLL}, (_, u) => at(u === 0 ? 'i' : `i + ${u}`)))}
        }` : '') + (rest.length > 0 ? stepBlock(step, rest) : '');
}

/**
 * Everything of a GEMM program but its `product` function: the output coordinates of each
 * layout, the chunk test, the epilogue, main. `product` is the GLSL of
 * `vec4 product(int aIndex, int wCol, int ri, int r, int d)`: the output texel's sums, from
 * the patch texel index aIndex of its first patch row pair, filter texel column wCol = d / 2,
 * chunk row ri, output row r and channel d. Returns the program's input names and its code.
 */
export function gemmProgramCode(shape: GemmShape, epilogue: GemmEpilogue, product: string):
    {variableNames: string[], userCode: string} {
  const {layout, outHeight, patchShape, outside} = shape;
  const variableNames = ['patchMatrix', 'filterMatrix'];
  const depthTexels = Math.ceil(patchShape[2] / 2);

  const coords = {
    positionsByChannels: 'ivec4 o = getOutputCoords(); int b = o.x, r = o.y, c = o.z, d = o.w;',
    flatPositionsByChannels: `ivec3 o = getOutputCoords(); int b = o.x, d = o.z;
          int r = o.y / ${shape.outWidth}, c = o.y - r * ${shape.outWidth};`,
    channelsByPositions: 'ivec3 o = getOutputCoords(); int b = o.x, d = o.y, r = 0, c = o.z;',
    channelPlanes: 'ivec4 o = getOutputCoords(); int b = o.x, d = o.y, r = o.z, c = o.w;',
  }[layout];

  let leaveChunk = '';
  if (outside === 'previous') variableNames.push('previous');
  if (outside !== 'nothing') {
    leaveChunk = `
        if (ri < 0 || ri >= chunk.z || ci < 0 || ci >= chunk.w) {
          setOutput(${outside === 'previous' ? 'getPreviousAtOutCoords()' : 'vec4(0.)'});
          return;
        }`;
  }

  const {activationSnippet, applyEpilogue} = epilogueCode(epilogue, variableNames);

  const userCode = `
      ${TEXEL_WALK_GLSL}
      ${activationSnippet}
      ${product}

      void main() {
        ${coords}
        int ri = b * ${outHeight} + r - chunk.x;
        int ci = c - chunk.y;
        ${leaveChunk}
        vec4 result = product((ri * ${Math.ceil(patchShape[1] / 2)} + ci / 2) * ${depthTexels},
                              d / 2, ri, r, d);
        ${applyEpilogue}
        setOutput(result);
      }
    `;
  return {variableNames, userCode};
}

export class GemmPackedProgram implements GPGPUProgram {
  variableNames: string[];
  packedInputs = true;
  packedOutput = true;
  outputShape: number[];
  userCode: string;
  customUniforms = [{name: 'chunk', type: 'ivec4' as const}];

  constructor(shape: GemmShape, epilogue: GemmEpilogue = {}) {
    const {layout, outHeight, patchShape, patchTexelSize, filterTexelSize} = shape;
    const [patchTexelWidth] = patchTexelSize;
    const [filterTexelWidth] = filterTexelSize;
    this.outputShape = shape.outputShape;
    const depthTexels = Math.ceil(patchShape[2] / 2);
    const rowTexels = Math.ceil(patchShape[1] / 2) * depthTexels;

    // Sums over the depth, one patch texel (2 positions x 2 taps) and one filter texel
    // (2 taps x 2 channels) per step j. The patch walk runs along consecutive texels; where
    // the texture's width is a multiple of the depth in texels (tfjs's usual layout) it stays
    // on one texel row (x + j) and the loop takes UNROLL steps per iteration, all reads
    // first, then the sums (on SwiftShader about 10% faster than tfjs's one step per
    // iteration, read-multiply-read-multiply). The filter walk runs down a texel column
    // (y + j) where the filter texture is one column pair wide per texel, as tfjs lays it
    // out unless it is too wide.
    const straight = patchTexelWidth % depthTexels === 0;
    const patchWalker = (name: string) => ({
      start: (index: string) => `ivec2 ${name} = texelAt(${index}, ${patchTexelWidth});`,
      at: (j: string) => straight ? `ivec2(${name}.x + ${j}, ${name}.y)` : name,
      step: straight ? '' : `${name} = nextTexel(${name}, ${patchTexelWidth});`,
    });
    const pa = patchWalker('pa');
    const pb = patchWalker('pb');
    const channelTexels = Math.ceil(shape.outputChannels / 2);
    const filterAt = (j: string) => filterTexelWidth === channelTexels ?
        `ivec2(wCol, ${j})` : `texelAt(wCol + (${j}) * ${channelTexels}, ${filterTexelWidth})`;
    const readPatch = (at: string) => readTexel('patchMatrix', at, patchTexelSize);
    const readFilter = (at: string) => readTexel('filterMatrix', at, filterTexelSize);
    const loop = (step: GemmStep, walkers: Array<typeof pa>) => {
      if (!straight) {
        return `for (int i = 0; i < ${depthTexels}; i++) {
          ${stepBlock(step, ['i'])}
          ${walkers.map(w => w.step).join('\n')}
        }`;
      }
      return unrolledSteps(step, depthTexels);
    };
    let product: string;
    if (layout !== 'channelPlanes') {
      const step: GemmStep = (j, u) => ({
        reads: `vec4 a${u} = ${readPatch(pa.at(j))};
                vec4 w${u} = ${readFilter(filterAt(j))};`,
        sums: `acc += a${u}.xxzz * w${u}.xyxy + a${u}.yyww * w${u}.zwzw;`,
      });
      product = `
      vec4 product(int aIndex, int wCol, int ri, int r, int d) {
        vec4 acc = vec4(0.);
        ${pa.start('aIndex')}
        ${loop(step, [pa])}
        return ${layout === 'channelsByPositions' ? 'acc.xzyw' : 'acc'};
      }`;
    } else {
      // Two output rows: the patch rows ri and ri + 1, one patch texel each; one channel.
      const twoRows: GemmStep = (j, u) => ({
        reads: `vec4 a${u} = ${readPatch(pa.at(j))};
                vec4 b${u} = ${readPatch(pb.at(j))};
                vec4 w${u} = ${readFilter(filterAt(j))};`,
        sums: `vec2 taps${u} = odd ? w${u}.yw : w${u}.xz;
               acc += vec4(a${u}.xz, b${u}.xz) * taps${u}.x + vec4(a${u}.yw, b${u}.yw) * taps${u}.y;`,
      });
      const oneRow: GemmStep = (j, u) => ({
        reads: `vec4 a${u} = ${readPatch(pa.at(j))};
                vec4 w${u} = ${readFilter(filterAt(j))};`,
        sums: `vec2 taps${u} = odd ? w${u}.yw : w${u}.xz;
               acc.xy += a${u}.xz * taps${u}.x + a${u}.yw * taps${u}.y;`,
      });
      product = `
      vec4 product(int aIndex, int wCol, int ri, int r, int d) {
        vec4 acc = vec4(0.);
        bool odd = (d & 1) == 1;
        ${pa.start('aIndex')}
        if (r + 1 < ${outHeight} && ri + 1 < chunk.z) {
          ${pb.start(`aIndex + ${rowTexels}`)}
          ${loop(twoRows, [pa, pb])}
        } else {
          ${loop(oneRow, [pa])}
        }
        return acc;
      }`;
    }
    const {variableNames, userCode} = gemmProgramCode(shape, epilogue, product);
    this.variableNames = variableNames;
    this.userCode = userCode;
  }
}

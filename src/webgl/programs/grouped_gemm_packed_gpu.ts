/**
 * The GEMM of a grouped convolution: the same patch matrix as the plain convolution (every
 * channel, taps in (kh, kw, c) order) times the group filter matrix, each output channel
 * summing only over its own group's patch columns. Output layouts, chunks and epilogue are
 * GemmPackedProgram's (gemmProgramCode); only the product differs.
 *
 * Inputs: `patchMatrix` [rows, cols, kh * kw * inChannels] from Im2colPackedProgram,
 * `filterMatrix` [kh * kw * tapRows, outChannels] from FilterMatrixPackedProgram on the
 * group's channels (row t * tapRows + local channel; tapRows = the group's channel count,
 * rounded up to even where a tap's rows would otherwise split a texel).
 *
 * The group gi of channel d reads, for each tap t, the run of patch columns
 * t * inChannels + gi * groupIn ... + groupIn - 1. With an even group channel count the run
 * is whole patch texels and the walk is the plain GEMM's, one patch and one filter texel per
 * step; with an odd one a step takes two patch columns wherever they lie (two texel reads,
 * the columns past the run set to 0). A texel's two output channels can belong to two groups
 * (an odd number of outputs per group): then each takes its own group's product.
 */
import type {GPGPUProgram} from '@tensorflow/tfjs-backend-webgl';
import {GemmEpilogue, gemmProgramCode, GemmShape, GemmStep, unrolledSteps} from './gemm_packed_gpu';
import {readTexel} from './glsl_util';

export interface GemmGroups {
  groups: number;
  /** kh * kw. */
  taps: number;
  /** All input channels (a patch row holds taps * inChannels columns). */
  inChannels: number;
  /** Input and output channels per group. */
  groupIn: number;
  groupOut: number;
  /** Filter matrix rows per tap: groupIn, or groupIn + 1 when odd and taps > 1. */
  tapRows: number;
}

/** Filter matrix rows per tap for a group of `groupIn` channels (see GemmGroups.tapRows). */
export function groupTapRows(groupIn: number, taps: number): number {
  return taps > 1 && groupIn % 2 === 1 ? groupIn + 1 : groupIn;
}

export class GroupedGemmPackedProgram implements GPGPUProgram {
  variableNames: string[];
  packedInputs = true;
  packedOutput = true;
  outputShape: number[];
  userCode: string;
  customUniforms = [{name: 'chunk', type: 'ivec4' as const}];

  constructor(shape: GemmShape, groups: GemmGroups, epilogue: GemmEpilogue = {}) {
    const {layout, outHeight, patchShape, patchTexelSize, filterTexelSize} = shape;
    const {taps, inChannels, groupIn, groupOut, tapRows} = groups;
    const [patchTexelWidth] = patchTexelSize;
    const [filterTexelWidth] = filterTexelSize;
    this.outputShape = shape.outputShape;
    const depthTexels = Math.ceil(patchShape[2] / 2);
    const rowTexels = Math.ceil(patchShape[1] / 2) * depthTexels;
    const channelTexels = Math.ceil(shape.outputChannels / 2);

    // Patch texel q of the patch row pair whose first texel is `index` (at `start`): on one
    // texel row where the texture's width is a multiple of the patch row (tfjs's usual
    // layout), else addressed from the index.
    const straight = patchTexelWidth % depthTexels === 0;
    const patchTexel = `
      vec4 patchTexel(ivec2 start, int index, int q) {
        return ${readTexel('patchMatrix',
            straight ? 'ivec2(start.x + q, start.y)' : `texelAt(index + q, ${patchTexelWidth})`,
            patchTexelSize)};
      }`;
    const filterAt = (q: string) => filterTexelWidth === channelTexels ?
        `ivec2(wCol, ${q})` : `texelAt(wCol + (${q}) * ${channelTexels}, ${filterTexelWidth})`;
    const readFilter = (q: string) => readTexel('filterMatrix', filterAt(q), filterTexelSize);

    const even = groupIn % 2 === 0;
    // Two patch columns p, p + 1 of two patch rows (a texel's layout), for odd group sizes;
    // `last`: p + 1 is past the group's run, 0.
    const patchColumns = even ? '' : `
      vec4 patchColumns(ivec2 start, int index, int p, bool last) {
        vec4 lo = patchTexel(start, index, p >> 1);
        vec4 hi = patchTexel(start, index, (p + 1) >> 1);
        vec4 a = (p & 1) == 1 ? vec4(lo.y, hi.x, lo.w, hi.z) : lo;
        if (last) a.yw = vec2(0.);
        return a;
      }`;
    const pairs = Math.ceil(groupIn / 2);
    // Step j of a tap: the patch texel (or column pair) j of the group's run and filter texel
    // row wq + j, for the patch rows at pa (and pb).
    const readA = (walker: string, index: string, j: string) => even ?
        `patchTexel(${walker}, ${index}, pq + ${j})` :
        `patchColumns(${walker}, ${index}, pq + 2 * (${j}), ${j} == ${pairs - 1})`;
    const twoRows = layout === 'channelPlanes';
    const step: GemmStep = twoRows ?
        (j, u) => ({
          reads: `vec4 a${u} = ${readA('pa', 'aIndex', j)};
                  vec4 b${u} = ${readA('pb', 'bIndex', j)};
                  vec4 w${u} = ${readFilter(`wq + ${j}`)};`,
          sums: `vec2 taps${u} = odd ? w${u}.yw : w${u}.xz;
                 acc += vec4(a${u}.xz, b${u}.xz) * taps${u}.x + vec4(a${u}.yw, b${u}.yw) * taps${u}.y;`,
        }) :
        (j, u) => ({
          reads: `vec4 a${u} = ${readA('pa', 'aIndex', j)};
                  vec4 w${u} = ${readFilter(`wq + ${j}`)};`,
          sums: `acc += a${u}.xxzz * w${u}.xyxy + a${u}.yyww * w${u}.zwzw;`,
        });
    // pq: the run's first patch texel (even groups) or column (odd); wq: its filter texel row.
    const runStart = even ?
        `int pq = t * ${inChannels / 2} + gi * ${groupIn / 2};` :
        `int pq = t * ${inChannels} + gi * ${groupIn};`;
    const tapLoop = `
        for (int t = 0; t < ${taps}; t++) {
          ${runStart}
          int wq = t * ${tapRows / 2 | 0};
          ${unrolledSteps(step, even ? groupIn / 2 : pairs)}
        }`;

    let product: string;
    if (!twoRows) {
      // A texel's two channels d, d + 1 lie in one group unless a group's output count is odd.
      const straddles = groupOut % 2 === 1;
      product = `
      vec4 groupProduct(ivec2 pa, int aIndex, int wCol, int gi) {
        vec4 acc = vec4(0.);
        ${tapLoop}
        return acc;
      }

      vec4 product(int aIndex, int wCol, int ri, int r, int d) {
        ivec2 pa = texelAt(aIndex, ${patchTexelWidth});
        int g0 = d / ${groupOut};
        vec4 acc = groupProduct(pa, aIndex, wCol, g0);
        ${straddles ? `
        int g1 = (d + 1) / ${groupOut};
        if (g1 != g0 && g1 < ${groups.groups}) {
          vec4 acc1 = groupProduct(pa, aIndex, wCol, g1);
          acc = vec4(acc.x, acc1.y, acc.z, acc1.w);
        }` : ''}
        return ${layout === 'channelsByPositions' ? 'acc.xzyw' : 'acc'};
      }`;
    } else {
      // One channel, two output rows: the patch rows ri and ri + 1 (the second only where it
      // is inside the chunk and the image; its texels otherwise hold 0 from the first row).
      product = `
      vec4 product(int aIndex, int wCol, int ri, int r, int d) {
        vec4 acc = vec4(0.);
        bool odd = (d & 1) == 1;
        int gi = d / ${groupOut};
        bool second = r + 1 < ${outHeight} && ri + 1 < chunk.z;
        int bIndex = second ? aIndex + ${rowTexels} : aIndex;
        ivec2 pa = texelAt(aIndex, ${patchTexelWidth});
        ivec2 pb = texelAt(bIndex, ${patchTexelWidth});
        ${tapLoop}
        if (!second) acc.zw = vec2(0.);
        return acc;
      }`;
    }
    const {variableNames, userCode} =
        gemmProgramCode(shape, epilogue, `${patchTexel}${patchColumns}${product}`);
    this.variableNames = variableNames;
    this.userCode = userCode;
  }
}

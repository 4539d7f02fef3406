/**
 * The WebGL convolution: the filter as a packed matrix, then for each chunk of output
 * positions an im2col pass (patch matrix texture) and a GEMM pass that writes the chunk into
 * the output tensor's own layout. Chunks are sized so no patch texture exceeds
 * WEBGL_MAX_TEXTURE_SIZE or the IM2COL_WORKSPACE_BYTES budget; most layers take one chunk.
 * With several, each GEMM pass renders the whole output, carrying the texels of earlier
 * chunks over from the previous pass (one texel read each) instead of a concatenation at
 * the end; at most two output textures are alive at once.
 *
 * A grouped convolution takes the same patch matrix and a GEMM that sums each output channel
 * over its own group's patch columns (GroupedGemmPackedProgram); a depthwise one (a group per
 * input channel) is one direct pass instead (DepthwisePackedProgram says why).
 *
 * The transposed convolution (`runIm2colConvTranspose`) is the same chunk plan backwards: per
 * chunk of output positions, the patch-matrix gradient dY · Wᵀ (PatchGradientPackedProgram)
 * and a col2im pass that adds it onto the image (Col2imPackedProgram); a depthwise one is
 * that col2im with the (one-channel) products done where it reads them, one direct pass
 * (DepthwiseTransposePackedProgram).
 *
 * `runIm2colConv` is the single entry every WebGL conv kernel calls (fused ones pass an
 * epilogue). The 3D convolution (conv3d_im2col.ts) plans its chunks with `planChunks` and
 * runs the same GEMM passes (`runGemmPasses`).
 */
import {env, util} from '@tensorflow/tfjs-core';
import type {TensorInfo} from '@tensorflow/tfjs-core';
import type {MathBackendWebGL} from '@tensorflow/tfjs-backend-webgl';
import {WORKSPACE_BYTES_FLAG, workspaceBytes as workspaceBudget} from '../config';
import {ConvGeometry, patchLength} from '../geometry';
import {Col2imPackedProgram} from './programs/col2im_packed_gpu';
import {DepthwisePackedProgram} from './programs/depthwise_packed_gpu';
import {DepthwiseTransposePackedProgram} from './programs/depthwise_transpose_packed_gpu';
import {FilterMatrixPackedProgram} from './programs/filter_matrix_packed_gpu';
import {GemmEpilogue, GemmOutputLayout, GemmOutsideChunk, GemmPackedProgram} from './programs/gemm_packed_gpu';
import {packedTexelSize} from './programs/glsl_util';
import {GemmGroups, GroupedGemmPackedProgram, groupTapRows} from './programs/grouped_gemm_packed_gpu';
import {Im2colPackedProgram} from './programs/im2col_packed_gpu';
import {PatchGradientPackedProgram} from './programs/patch_gradient_packed_gpu';

/** Bytes of one packed RGBA float32 texel. */
export const TEXEL_BYTES = 16;

/**
 * A block of output positions: flat output rows [firstRow, firstRow + rows) (flat row =
 * image * outHeight + outRow) x output columns [firstCol, firstCol + cols).
 */
export interface OutputChunk {
  firstRow: number;
  rows: number;
  firstCol: number;
  cols: number;
}

/**
 * The output positions a chunk plan covers, as rows of columns: `outHeight` rows per image
 * (for a 3D convolution the (outDepth, outRow) pairs), `outWidth` positions per row, `depth`
 * patch values per position. `rowPairs`: output texels hold two rows of one image (NCHW
 * channel planes).
 */
export interface ChunkGrid {
  batchSize: number;
  outHeight: number;
  outWidth: number;
  depth: number;
  rowPairs: boolean;
}

/** The chunk plan of a 2D convolution's output positions (planChunks). */
export function planOutputChunks(g: ConvGeometry, maxTexels: number): OutputChunk[] {
  return planChunks({batchSize: g.batchSize, outHeight: g.outHeight, outWidth: g.outWidth,
                     depth: patchLength(g), rowPairs: g.dataFormat === 'channelsFirst'},
                    maxTexels);
}

/**
 * Splits the output positions into chunks whose patch matrix ([rows, cols, depth], packed)
 * has at most `maxTexels` texels: runs of whole output rows where one row fits, else column
 * ranges of one row. Chunks start at even columns, since a packed texel holds two. NCHW
 * output texels hold two rows of one image, so there chunks are whole images, or even runs
 * of rows inside one image, or column ranges of a pair of rows.
 */
export function planChunks(grid: ChunkGrid, maxTexels: number): OutputChunk[] {
  const {batchSize, outHeight, outWidth, depth, rowPairs} = grid;
  const depthTexels = Math.ceil(depth / 2);
  const rowTexels = Math.ceil(outWidth / 2) * depthTexels;
  const totalRows = batchSize * outHeight;
  const rowsFit = Math.floor(maxTexels / rowTexels);
  const chunks: OutputChunk[] = [];
  const columnRanges = (firstRow: number, rows: number) => {
    const colPairs = Math.floor(maxTexels / (rows * depthTexels));
    if (colPairs < 1) {
      // The values in force (getFlags evaluates nothing, so it never throws).
      const flags = env().getFlags();
      throw new Error(`The patch of one output position (${depth} values) does not ` +
          `fit a texture of ${maxTexels} texels (WEBGL_MAX_TEXTURE_SIZE is ` +
          `${flags.WEBGL_MAX_TEXTURE_SIZE}, ${WORKSPACE_BYTES_FLAG} is ` +
          `${flags[WORKSPACE_BYTES_FLAG]}).`);
    }
    for (let firstCol = 0; firstCol < outWidth; firstCol += 2 * colPairs) {
      chunks.push({firstRow, rows, firstCol, cols: Math.min(2 * colPairs, outWidth - firstCol)});
    }
  };
  if (!rowPairs) {
    if (rowsFit < 1) {
      for (let row = 0; row < totalRows; row++) columnRanges(row, 1);
    } else {
      for (let firstRow = 0; firstRow < totalRows; firstRow += rowsFit) {
        chunks.push({firstRow, rows: Math.min(rowsFit, totalRows - firstRow), firstCol: 0,
                     cols: outWidth});
      }
    }
  } else if (rowsFit >= outHeight) {
    const images = Math.floor(rowsFit / outHeight);
    for (let image = 0; image < batchSize; image += images) {
      chunks.push({firstRow: image * outHeight,
                   rows: Math.min(images, batchSize - image) * outHeight, firstCol: 0,
                   cols: outWidth});
    }
  } else {
    const rowsPerChunk = rowsFit - rowsFit % 2;
    for (let image = 0; image < batchSize; image++) {
      for (let row = 0; row < outHeight;) {
        const rows = Math.min(rowsPerChunk >= 2 ? rowsPerChunk : 2, outHeight - row);
        if (rowsPerChunk >= 2) {
          chunks.push({firstRow: image * outHeight + row, rows, firstCol: 0, cols: outWidth});
        } else {
          columnRanges(image * outHeight + row, rows);
        }
        row += rows;
      }
    }
  }
  return chunks;
}

/** The epilogue's tensors and activation, as tfjs's fused conv kernels receive them. */
export interface ConvEpilogue {
  /** Broadcast against the output in its data format ([outC] for NHWC, [outC, 1, 1] NCHW). */
  bias?: TensorInfo;
  /** tfjs's packed activation snippet (see GemmEpilogue.activation). */
  activation?: string;
  preluActivationWeights?: TensorInfo;
  leakyreluAlpha?: TensorInfo;
}

/** Why this context cannot run the package's shaders (they need WebGL 2), or null. */
export function webglUnsupported(): string | null {
  const version = env().getNumber('WEBGL_VERSION');
  return version === 2 ? null :
      `the webgl kernels of tfjs-im2col need WebGL 2, but this context has WEBGL_VERSION ${version}`;
}

export function texelSize(backend: MathBackendWebGL, info: TensorInfo): [number, number] {
  const texShape = backend.texData.get(info.dataId).texShape;
  if (texShape == null) throw new Error('tfjs-im2col: a packed input has no texture.');
  return packedTexelSize(texShape);
}

/**
 * A 1x1, stride-1, unpadded NHWC convolution's patch matrix is its input: when x is already
 * a packed texture of the same [.., width, channels] blocks, the GEMM reads it directly. The
 * texture may be stored under another shape (a reshape-free tfjs reshape, or our own
 * [batch, outH * outW, outC] output): [.., rows, channels] with rows the width, or rows and
 * the width both even, hold the same texels.
 */
function packedInputIsPatchMatrix(backend: MathBackendWebGL, x: TensorInfo, g: ConvGeometry):
    boolean {
  const {padInfo} = g;
  if (g.dataFormat !== 'channelsLast' || g.filterHeight !== 1 || g.filterWidth !== 1 ||
      g.strideHeight !== 1 || g.strideWidth !== 1 ||
      padInfo.top + padInfo.bottom + padInfo.left + padInfo.right !== 0) {
    return false;
  }
  const data = backend.texData.get(x.dataId);
  // A slice sharing its source's texture (texData.slice) starts at an offset: not this case.
  const rows = data.shape[data.shape.length - 2];
  return data.isPacked === true && data.texture != null && data.slice == null &&
      data.shape.length >= 2 && data.shape[data.shape.length - 1] === g.inChannels &&
      (rows === g.inWidth || (rows % 2 === 0 && g.inWidth % 2 === 0));
}

/**
 * A filter [.., inChannels, outChannels] already in a packed texture holds its 2x2 blocks in
 * the order of the [patchLength, outChannels] filter matrix when a block's two taps are two
 * channels of one (kh, kw): 1x1 filters, or an even channel count.
 */
export function packedFilterIsFilterMatrix(backend: MathBackendWebGL, filter: TensorInfo,
                                    g: ConvGeometry): boolean {
  if (g.filterHeight * g.filterWidth !== 1 && g.inChannels % 2 !== 0) return false;
  const data = backend.texData.get(filter.dataId);
  return data.isPacked === true && data.texture != null && data.slice == null &&
      data.shape.length >= 2 &&
      data.shape[data.shape.length - 2] === g.inChannels &&
      data.shape[data.shape.length - 1] === g.outChannels;
}

/** The largest patch texture, in texels, that the texture size and memory budget allow. */
export function maxPatchTexels(): number {
  const maxSize = env().getNumber('WEBGL_MAX_TEXTURE_SIZE');
  return Math.min(maxSize * maxSize, Math.floor(workspaceBudget() / TEXEL_BYTES));
}

/**
 * The convolution of x by filter (rank-4 tensors as `g` describes them), plus the epilogue.
 * `outputRank` 3 gives a 1D convolution's output ([batch, outW, outC] or [batch, outC, outW]).
 * Returns the output and the largest patch texture it used, in bytes.
 */
export function runIm2colConv(backend: MathBackendWebGL, x: TensorInfo, filter: TensorInfo,
                              g: ConvGeometry, epilogue: ConvEpilogue = {},
                              outputRank: 3 | 4 = 4): {out: TensorInfo, workspaceBytes: number} {
  const channelsLast = g.dataFormat === 'channelsLast';
  const epilogueInputs = [epilogue.bias, epilogue.preluActivationWeights, epilogue.leakyreluAlpha]
      .filter((t): t is TensorInfo => t != null);
  // An NHWC output is rendered as [batch, outH * outW, outC] where that has the same texels
  // (as tfjs's conv2dByMatMul leaves it): tfjs's samplers of a 3D packed texture (the
  // download's decode pass, the next op) do less index arithmetic than those of a 4D one.
  // The epilogue's tensors must then broadcast against it ([outC] or a scalar).
  const flatPositions = channelsLast && (g.outWidth % 2 === 0 || g.outHeight === 1) &&
      epilogueInputs.every(t => t.shape.length <= 1);
  const layout: GemmOutputLayout = channelsLast ?
      (flatPositions ? 'flatPositionsByChannels' : 'positionsByChannels') :
      outputRank === 3 ? 'channelsByPositions' : 'channelPlanes';
  const outShape = layout === 'channelsByPositions' ?
      [g.batchSize, g.outChannels, g.outWidth] :
      layout === 'flatPositionsByChannels' ?
      [g.batchSize, g.outHeight * g.outWidth, g.outChannels] : g.outShape;
  const resultShape = outputRank === 3 && channelsLast ?
      [g.batchSize, g.outWidth, g.outChannels] :
      layout === 'channelsByPositions' ? outShape : g.outShape;
  const depth = patchLength(g);
  if (util.sizeFromShape(outShape) === 0 || depth === 0) {
    // Nothing to multiply: an empty output, or taps over zero channels (all sums are 0).
    const out = backend.makeTensorInfo(resultShape, 'float32',
                                       new Float32Array(util.sizeFromShape(outShape)));
    return {out, workspaceBytes: 0};
  }

  const gemmEpilogue: GemmEpilogue = {
    addBias: epilogue.bias != null,
    activation: epilogue.activation,
    hasPreluActivation: epilogue.preluActivationWeights != null,
    hasLeakyreluActivation: epilogue.leakyreluAlpha != null,
  };
  if (g.groups > 1 && g.groups === g.inChannels) {
    const out = backend.runWebGLProgram(
        new DepthwisePackedProgram(g, layout, outShape, gemmEpilogue),
        [x, filter, ...epilogueInputs], 'float32');
    return {out: {dataId: out.dataId, shape: resultShape, dtype: 'float32'}, workspaceBytes: 0};
  }
  // A grouped convolution's filter matrix is the group's: [taps * tapRows, outChannels].
  const taps = g.filterHeight * g.filterWidth;
  const groups: GemmGroups | null = g.groups > 1 ? {
    groups: g.groups, taps, inChannels: g.inChannels, groupIn: g.inChannels / g.groups,
    groupOut: g.outChannels / g.groups,
    tapRows: groupTapRows(g.inChannels / g.groups, taps)
  } : null;
  const filterGeometry = groups == null ? g : {...g, inChannels: groups.groupIn};
  const tapRows = groups == null ? g.inChannels : groups.tapRows;
  const inputAsPatches = packedInputIsPatchMatrix(backend, x, g);
  const chunks = inputAsPatches ?
      [{firstRow: 0, rows: g.batchSize * g.outHeight, firstCol: 0, cols: g.outWidth}] :
      planOutputChunks(g, maxPatchTexels());
  const keepPacked = true;
  const filterAsMatrix = tapRows === filterGeometry.inChannels &&
      packedFilterIsFilterMatrix(backend, filter, filterGeometry);
  const filterMatrix = filterAsMatrix ?
      {...filter, shape: [taps * filterGeometry.inChannels, g.outChannels]} :
      backend.runWebGLProgram(new FilterMatrixPackedProgram(filterGeometry, tapRows), [filter],
                              'float32', undefined, keepPacked);
  try {
    const {out, workspaceBytes} = runGemmPasses(backend, {
      chunks, filterMatrix, groups, outputShape: outShape, layout, outHeight: g.outHeight,
      outWidth: g.outWidth, depth, outputChannels: g.outChannels, epilogue: gemmEpilogue,
      epilogueInputs,
      patchOf: chunk => inputAsPatches ?
          {patch: {...x, shape: [chunk.rows, chunk.cols, depth]}, made: false} :
          {patch: backend.runWebGLProgram(
               new Im2colPackedProgram(g, chunk.rows, chunk.cols, g.outWidth), [x], 'float32',
               [[chunk.firstRow * g.outWidth + chunk.firstCol]], keepPacked),
           made: true},
    });
    return {out: {dataId: out.dataId, shape: resultShape, dtype: 'float32'}, workspaceBytes};
  } finally {
    if (!filterAsMatrix) backend.disposeIntermediateTensorInfo(filterMatrix);
  }
}

/**
 * The GEMM passes of a convolution, one per chunk of output positions; `outHeight` and
 * `outWidth` number the rows and columns the chunks cover (GemmShape).
 */
export interface GemmPasses {
  chunks: OutputChunk[];
  /**
   * The chunk's patch matrix [rows, cols, depth], packed; `made`: this call made it, so it is
   * counted in the workspace and disposed after its pass (else it is borrowed, e.g. x).
   */
  patchOf: (chunk: OutputChunk) => {patch: TensorInfo, made: boolean};
  /** [depth, outputChannels], packed (a group's rows for a grouped GEMM). */
  filterMatrix: TensorInfo;
  /** A grouped convolution's groups (GroupedGemmPackedProgram), or null. */
  groups?: GemmGroups | null;
  outputShape: number[];
  layout: GemmOutputLayout;
  outHeight: number;
  outWidth: number;
  depth: number;
  outputChannels: number;
  epilogue?: GemmEpilogue;
  epilogueInputs?: TensorInfo[];
}

/**
 * Runs the passes: each chunk's patch matrix, then its GEMM into the output's layout, texels
 * outside the chunk carried over from the previous pass (see the file's comment). Disposes
 * every intermediate, also when a pass throws. Returns the output (of `outputShape`) and the
 * largest patch texture made, in bytes.
 */
export function runGemmPasses(backend: MathBackendWebGL, passes: GemmPasses):
    {out: TensorInfo, workspaceBytes: number} {
  const {chunks, filterMatrix, depth, groups = null, epilogue = {}, epilogueInputs = []} =
      passes;
  let out: TensorInfo | null = null;
  let workspaceBytes = 0;
  try {
    for (let i = 0; i < chunks.length; i++) {
      const chunk = chunks[i];
      const patchShape: [number, number, number] = [chunk.rows, chunk.cols, depth];
      const {patch, made} = passes.patchOf(chunk);
      try {
        if (made) {
          workspaceBytes = Math.max(workspaceBytes,
              TEXEL_BYTES * chunk.rows * Math.ceil(chunk.cols / 2) * Math.ceil(depth / 2));
        }
        const outside: GemmOutsideChunk = chunks.length === 1 ? 'nothing' :
            i === 0 ? 'zeros' : 'previous';
        const shape = {
          outputShape: passes.outputShape, layout: passes.layout, outHeight: passes.outHeight,
          outWidth: passes.outWidth, patchShape, outputChannels: passes.outputChannels,
          patchTexelSize: texelSize(backend, patch),
          filterTexelSize: texelSize(backend, filterMatrix), outside
        };
        const program = groups == null ? new GemmPackedProgram(shape, epilogue) :
                                         new GroupedGemmPackedProgram(shape, groups, epilogue);
        const inputs = [patch, filterMatrix, ...(out != null ? [out] : []), ...epilogueInputs];
        const next: TensorInfo = backend.runWebGLProgram(
            program, inputs, 'float32',
            [[chunk.firstRow, chunk.firstCol, chunk.rows, chunk.cols]],
            i < chunks.length - 1);
        if (out != null) backend.disposeIntermediateTensorInfo(out);
        out = next;
      } finally {
        if (made) backend.disposeIntermediateTensorInfo(patch);
      }
    }
  } catch (error) {
    if (out != null) backend.disposeIntermediateTensorInfo(out);
    throw error;
  }
  return {out: out as TensorInfo, workspaceBytes};
}

/** The whole patch matrix, [batch, outHeight * outWidth, depth] (the Im2col kernel). */
export function runIm2col(backend: MathBackendWebGL, x: TensorInfo, g: ConvGeometry): TensorInfo {
  const positions = g.outHeight * g.outWidth;
  const program = new Im2colPackedProgram(g, g.batchSize, positions, positions);
  return backend.runWebGLProgram(program, [x], 'float32', [[0]]);
}

/**
 * The transposed convolution: the input gradient (g.inShape) of the convolution g (groups and
 * depthwise too) from dy (g.outShape), rank-4 tensors. The output positions go in the
 * forward pass's chunks (planOutputChunks), so each chunk's patch-matrix gradient fits the
 * texture size and the workspace budget; each chunk's col2im pass renders the whole image,
 * adding the chunks before it (at most two images alive at once). A depthwise one needs no
 * workspace (one direct pass). Returns the image and the largest patch-gradient texture it
 * used, in bytes.
 */
export function runIm2colConvTranspose(backend: MathBackendWebGL, dy: TensorInfo,
                                       filter: TensorInfo, g: ConvGeometry):
    {out: TensorInfo, workspaceBytes: number} {
  const depth = patchLength(g);
  const size = util.sizeFromShape(g.inShape);
  if (size === 0 || util.sizeFromShape(g.outShape) === 0 || depth === 0) {
    // Nothing to add: an empty image, or no output position reads it (all sums are 0).
    return {out: backend.makeTensorInfo(g.inShape, 'float32', new Float32Array(size)),
            workspaceBytes: 0};
  }
  if (g.groups > 1 && g.groups === g.inChannels) {
    const out = backend.runWebGLProgram(new DepthwiseTransposePackedProgram(g), [dy, filter],
                                        'float32');
    return {out, workspaceBytes: 0};
  }
  const chunks = planOutputChunks(g, maxPatchTexels());
  const keepPacked = true;
  let out: TensorInfo | null = null;
  let workspaceBytes = 0;
  try {
    for (let i = 0; i < chunks.length; i++) {
      const chunk = chunks[i];
      const patch = backend.runWebGLProgram(
          new PatchGradientPackedProgram(g, chunk.rows, chunk.cols), [dy, filter], 'float32',
          [[chunk.firstRow * g.outWidth + chunk.firstCol]], keepPacked);
      try {
        workspaceBytes = Math.max(workspaceBytes,
            TEXEL_BYTES * chunk.rows * Math.ceil(chunk.cols / 2) * Math.ceil(depth / 2));
        const next: TensorInfo = backend.runWebGLProgram(
            new Col2imPackedProgram(g, out != null), [patch, ...(out != null ? [out] : [])],
            'float32', [[chunk.firstRow, chunk.firstCol, chunk.rows, chunk.cols]],
            i < chunks.length - 1);
        if (out != null) backend.disposeIntermediateTensorInfo(out);
        out = next;
      } finally {
        backend.disposeIntermediateTensorInfo(patch);
      }
    }
  } catch (error) {
    if (out != null) backend.disposeIntermediateTensorInfo(out);
    throw error;
  }
  return {out: out as TensorInfo, workspaceBytes};
}

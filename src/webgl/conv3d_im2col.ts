/**
 * The WebGL 3D convolution, the 2D one's way (conv_im2col.ts): the filter as a packed matrix,
 * then for each chunk of output positions a vol2col pass (patch matrix texture) and the same
 * GEMM pass, chunks bounded by WEBGL_MAX_TEXTURE_SIZE and IM2COL_WORKSPACE_BYTES.
 *
 * The 3D output positions are the 2D ones' rows of columns with (outDepth, outRow) pairs as
 * the rows: flat row = (image * outDepth + d) * outHeight + outRow, outWidth columns. So the
 * 2D chunk plan and GEMM layouts serve as they are: NDHWC [batch, oD, oH, oW, outC] has the
 * packed texels of [batch, oD * oH * oW, outC] (oW even) or [batch, oD * oH, oW, outC], NCDHW
 * those of channel planes [batch, outC, oD * oH, oW] where oH is even (else one more pass
 * splits the planes' rows into depth slices: SplitRowsPackedProgram).
 *
 * The transposed convolution (x's gradient) runs per chunk of dy rows: the GEMM dY · Wᵀ
 * gives that chunk's rows of the patch-matrix gradient, which col2vol adds onto the image.
 *
 * 1x1x1, stride-1 NDHWC convolutions (forward and transposed) are 2D 1x1 ones over the same
 * texels, and run as such (runIm2colConv): a packed input is then read as the patch matrix.
 */
import {backend_util} from '@tensorflow/tfjs-core';
import type {TensorInfo} from '@tensorflow/tfjs-core';
import type {MathBackendWebGL} from '@tensorflow/tfjs-backend-webgl';
import {Conv3dGeometry, conv3dGeometry, ConvGeometry, patchLength3d, valueCount} from '../geometry';
import {maxPatchTexels, OutputChunk, packedFilterIsFilterMatrix, planChunks, runGemmPasses,
        runIm2colConv, TEXEL_BYTES, texelSize} from './conv_im2col';
import {Col2volPackedProgram} from './programs/col2vol_packed_gpu';
import {FilterMatrixPackedProgram} from './programs/filter_matrix_packed_gpu';
import {FilterMatrixTransposedPackedProgram} from './programs/filter_matrix_transposed_packed_gpu';
import {GemmOutputLayout, GemmPackedProgram} from './programs/gemm_packed_gpu';
import {SplitRowsPackedProgram} from './programs/split_rows_packed_gpu';
import {volumeAs4d, Vol2colPackedProgram} from './programs/vol2col_packed_gpu';

/** Intermediate outputs stay packed whatever WEBGL_LAZILY_UNPACK says. */
const KEEP_PACKED = true;

function zeros(backend: MathBackendWebGL, shape: number[]): TensorInfo {
  return backend.makeTensorInfo(shape, 'float32', new Float32Array(valueCount(shape)));
}

/**
 * The 3D filter [fd, fh, fw, inC, outC] as the 2D filter [fd * fh, fw, inC, outC] (the same
 * packed texels): the same taps in the same order, so the same filter matrix.
 */
function filterAs2d(g: Conv3dGeometry): ConvGeometry {
  const rows = g.filterDepth * g.filterHeight;
  const info = backend_util.computeConv2DInfo(
      [1, rows, g.filterWidth, g.inChannels], [rows, g.filterWidth, g.inChannels, g.outChannels],
      1, 1, 'valid');
  return {...info, groups: 1};
}

/**
 * A 1x1x1, stride-1 NDHWC convolution is the 1x1 2D convolution of the volume read as
 * [batch * inDepth, inHeight, inWidth, channels] (the same packed texels), and its output
 * the 2D one's: the 2D geometry of that (from `channels` to `outChannels`), or null for any
 * other convolution. The 2D path then reads a packed x as its patch matrix, as it does in 2D.
 */
function pointwiseAs2d(g: Conv3dGeometry, channels: number, outChannels: number):
    ConvGeometry | null {
  if (g.dataFormat !== 'channelsLast' || g.filterDepth * g.filterHeight * g.filterWidth !== 1 ||
      g.strideDepth * g.strideHeight * g.strideWidth !== 1) {
    return null;
  }
  const info = backend_util.computeConv2DInfo(
      [g.batchSize * g.inDepth, g.inHeight, g.inWidth, channels], [1, 1, channels, outChannels],
      1, 1, 'valid');
  return {...info, groups: 1};
}

/**
 * The 3D convolution of x by filter (g.inShape, g.filterShape): vol2col and the GEMM per
 * chunk. Returns the output (g.outShape) and the largest patch texture it used, in bytes.
 */
export function runVol2colConv(backend: MathBackendWebGL, x: TensorInfo, filter: TensorInfo,
                               g: Conv3dGeometry): {out: TensorInfo, workspaceBytes: number} {
  const depth = patchLength3d(g);
  if (valueCount(g.outShape) === 0 || depth === 0) {
    // An empty output, or taps over zero channels (all sums are 0).
    return {out: zeros(backend, g.outShape), workspaceBytes: 0};
  }
  const {batchSize, outChannels, outWidth} = g;
  const pointwise = pointwiseAs2d(g, g.inChannels, outChannels);
  if (pointwise != null) {
    const {out, workspaceBytes} = runIm2colConv(backend, {...x, shape: pointwise.inShape},
                                                {...filter, shape: pointwise.filterShape},
                                                pointwise);
    return {out: {...out, shape: g.outShape}, workspaceBytes};
  }
  const channelsLast = g.dataFormat === 'channelsLast';
  const rowsPerImage = g.outDepth * g.outHeight;
  const flatPositions = channelsLast && (outWidth % 2 === 0 || rowsPerImage === 1);
  const layout: GemmOutputLayout = !channelsLast ? 'channelPlanes' :
      flatPositions ? 'flatPositionsByChannels' : 'positionsByChannels';
  const outputShape = !channelsLast ? [batchSize, outChannels, rowsPerImage, outWidth] :
      flatPositions ? [batchSize, rowsPerImage * outWidth, outChannels] :
      [batchSize, rowsPerImage, outWidth, outChannels];
  const chunks = planChunks({batchSize, outHeight: rowsPerImage, outWidth, depth,
                             rowPairs: !channelsLast}, maxPatchTexels());

  const volume = {...x, shape: volumeAs4d(g)};
  const filter2d = filterAs2d(g);
  const filterAsMatrix = packedFilterIsFilterMatrix(backend, filter, filter2d);
  const filterMatrix = filterAsMatrix ? {...filter, shape: [depth, outChannels]} :
      backend.runWebGLProgram(new FilterMatrixPackedProgram(filter2d),
                              [{...filter, shape: filter2d.filterShape}], 'float32', undefined,
                              KEEP_PACKED);
  let passes: {out: TensorInfo, workspaceBytes: number};
  try {
    passes = runGemmPasses(backend, {
      chunks, filterMatrix, outputShape, layout, outHeight: rowsPerImage, outWidth, depth,
      outputChannels: outChannels,
      patchOf: chunk => ({
        patch: backend.runWebGLProgram(
            new Vol2colPackedProgram(g, chunk.rows, chunk.cols, outWidth), [volume], 'float32',
            [[chunk.firstRow * outWidth + chunk.firstCol]], KEEP_PACKED),
        made: true
      }),
    });
  } finally {
    if (!filterAsMatrix) backend.disposeIntermediateTensorInfo(filterMatrix);
  }
  let out = passes.out;
  if (!channelsLast && g.outHeight % 2 === 1 && g.outDepth > 1) {
    const planes = batchSize * outChannels;
    try {
      out = backend.runWebGLProgram(
          new SplitRowsPackedProgram(planes, g.outDepth, g.outHeight, outWidth),
          [{...out, shape: [planes, rowsPerImage, outWidth]}], 'float32');
    } finally {
      backend.disposeIntermediateTensorInfo(passes.out);
    }
  }
  return {out: {dataId: out.dataId, shape: g.outShape, dtype: 'float32'},
          workspaceBytes: passes.workspaceBytes};
}

/**
 * Whether dy (NDHWC) already is a packed texture of its rows [batch * oD * oH, oW, outC]:
 * stored under a shape [.., rows, outC] with rows = oW, or rows and oW both even. An even
 * outC too, so the GEMM reads no texel lanes past the channels (a texture's padding lanes
 * hold whatever its program wrote there).
 */
function packedDyIsRows(backend: MathBackendWebGL, dy: TensorInfo, g: Conv3dGeometry): boolean {
  if (g.dataFormat !== 'channelsLast' || g.outChannels % 2 !== 0) return false;
  const data = backend.texData.get(dy.dataId);
  const rows = data.shape[data.shape.length - 2];
  return data.isPacked === true && data.texture != null && data.slice == null &&
      data.shape.length >= 2 && data.shape[data.shape.length - 1] === g.outChannels &&
      (rows === g.outWidth || (rows % 2 === 0 && g.outWidth % 2 === 0));
}

/**
 * The transposed 3D convolution: x's gradient (g.inShape) of the convolution g from dy
 * (g.outShape). Per chunk of dy rows (bounded like the forward patch matrix): dy's rows as a
 * packed [rows, cols, outC] matrix (vol2col of a 1x1x1 convolution over dy, or dy itself),
 * the GEMM by Wᵀ into the chunk's patch-gradient rows, and col2vol adding them onto the
 * image (a 1x1x1, stride-1 NDHWC one is the 2D 1x1 convolution of dy by Wᵀ). Returns the
 * image and the largest patch-gradient texture, in bytes.
 */
export function runVol2colConvTranspose(backend: MathBackendWebGL, dy: TensorInfo,
                                        filter: TensorInfo, g: Conv3dGeometry):
    {out: TensorInfo, workspaceBytes: number} {
  const depth = patchLength3d(g);
  if (valueCount(g.inShape) === 0 || valueCount(g.outShape) === 0 || depth === 0) {
    return {out: zeros(backend, g.inShape), workspaceBytes: 0};
  }
  const {batchSize, outChannels, outWidth} = g;
  // 1x1x1 and stride 1 (NDHWC): the 2D 1x1 convolution of dy by Wᵀ, read as the filter
  // [1, 1, outC, inC]; col2vol would add each patch row onto its own voxel.
  const pointwise = pointwiseAs2d(g, outChannels, g.inChannels);
  // Planned before any work, so a patch row too large for a texture throws first. The
  // patch-gradient chunk [rows, cols, depth] and dy's rows [rows, cols, outC] must fit.
  const chunks = pointwise != null ? [] :
      planChunks({batchSize, outHeight: g.outDepth * g.outHeight, outWidth,
                  depth: Math.max(depth, outChannels), rowPairs: false}, maxPatchTexels());
  const taps = g.filterDepth * g.filterHeight * g.filterWidth;
  const wt = backend.runWebGLProgram(
      new FilterMatrixTransposedPackedProgram(taps, g.inChannels, outChannels),
      [{...filter, shape: [taps, g.inChannels, outChannels]}], 'float32', undefined, KEEP_PACKED);
  try {
    if (pointwise != null) {
      const {out, workspaceBytes} = runIm2colConv(backend, {...dy, shape: pointwise.inShape},
                                                  {...wt, shape: pointwise.filterShape},
                                                  pointwise);
      return {out: {...out, shape: g.inShape}, workspaceBytes};
    }
    return col2volPasses(backend, dy, wt, g, chunks);
  } finally {
    backend.disposeIntermediateTensorInfo(wt);
  }
}

/**
 * The transposed convolution's passes, one per chunk of dy rows: dy's rows, the GEMM by Wᵀ
 * (`wt`, [outC, patchLength3d] packed), col2vol.
 */
function col2volPasses(backend: MathBackendWebGL, dy: TensorInfo, wt: TensorInfo,
                       g: Conv3dGeometry, chunks: OutputChunk[]):
    {out: TensorInfo, workspaceBytes: number} {
  const depth = patchLength3d(g);
  const {outChannels, outWidth} = g;
  const dyAsRows = chunks.length === 1 && packedDyIsRows(backend, dy, g);
  // dy's rows are the patch matrix of the 1x1x1 convolution over dy.
  const dyGeometry = conv3dGeometry(g.outShape, [1, 1, 1, outChannels, 1], {
    strides: 1, pad: 'valid', dilations: 1,
    dataFormat: g.dataFormat === 'channelsLast' ? 'NDHWC' : 'NCDHW'
  });
  const dyVolume = {...dy, shape: volumeAs4d(dyGeometry)};
  let image: TensorInfo | null = null;
  let workspaceBytes = 0;
  try {
    for (const chunk of chunks) {
      const {rows, cols} = chunk;
      const dyRows = dyAsRows ? {...dy, shape: [rows, cols, outChannels]} :
          backend.runWebGLProgram(new Vol2colPackedProgram(dyGeometry, rows, cols, outWidth),
                                  [dyVolume], 'float32',
                                  [[chunk.firstRow * outWidth + chunk.firstCol]], KEEP_PACKED);
      let patchGradient: TensorInfo | null = null;
      try {
        workspaceBytes = Math.max(workspaceBytes,
            TEXEL_BYTES * rows * Math.ceil(cols / 2) * Math.ceil(depth / 2));
        const gemm = new GemmPackedProgram({
          outputShape: [1, rows, cols, depth], layout: 'positionsByChannels', outHeight: rows,
          outWidth: cols, patchShape: [rows, cols, outChannels], outputChannels: depth,
          patchTexelSize: texelSize(backend, dyRows), filterTexelSize: texelSize(backend, wt),
          outside: 'nothing'
        });
        patchGradient = backend.runWebGLProgram(gemm, [dyRows, wt], 'float32',
                                                [[0, 0, rows, cols]], KEEP_PACKED);
        const next: TensorInfo = backend.runWebGLProgram(
            new Col2volPackedProgram(g, image != null),
            [{...patchGradient, shape: [rows, cols, depth]}, ...(image != null ? [image] : [])],
            'float32', [[chunk.firstRow, chunk.firstCol, rows, cols]], KEEP_PACKED);
        if (image != null) backend.disposeIntermediateTensorInfo(image);
        image = next;
      } finally {
        if (patchGradient != null) backend.disposeIntermediateTensorInfo(patchGradient);
        if (!dyAsRows) backend.disposeIntermediateTensorInfo(dyRows);
      }
    }
  } catch (error) {
    if (image != null) backend.disposeIntermediateTensorInfo(image);
    throw error;
  }
  const result = image as TensorInfo;
  return {out: {dataId: result.dataId, shape: g.inShape, dtype: 'float32'}, workspaceBytes};
}

/** The whole 3D patch matrix, [batch, outDepth * outHeight * outWidth, patchLength3d]. */
export function runVol2col(backend: MathBackendWebGL, x: TensorInfo, g: Conv3dGeometry):
    TensorInfo {
  const positions = g.outDepth * g.outHeight * g.outWidth;
  const program = new Vol2colPackedProgram(g, g.batchSize, positions, positions);
  return backend.runWebGLProgram(program, [{...x, shape: volumeAs4d(g)}], 'float32', [[0]]);
}

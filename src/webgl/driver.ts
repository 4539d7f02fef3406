/**
 * The webgl backend's driver: the package's GLSL programs (im2col, filter matrix, GEMM with
 * the epilogue, col2im; grouped, depthwise and transposed variants; 3D: vol2col, col2vol) on
 * tfjs's packed textures, through MathBackendWebGL.runWebGLProgram.
 */
import type {MathBackendWebGL} from '@tensorflow/tfjs-backend-webgl';
import {BackendDriver, FAMILY_KERNELS} from '../engine/driver';
import {valueCount} from '../geometry';
import {runVol2col, runVol2colConv, runVol2colConvTranspose} from './conv3d_im2col';
import {runIm2col, runIm2colConv, runIm2colConvTranspose, webglUnsupported} from './conv_im2col';
import {webglEpilogue} from './epilogue';
import {Col2imProgram} from './programs/col2im_gpu';

export const webglDriver: BackendDriver<MathBackendWebGL> = {
  backendName: 'webgl',
  // The benchmarks show these at least as fast as tfjs's webgl kernels (docs/models.md).
  switchedKernels: FAMILY_KERNELS,
  unsupported: webglUnsupported,
  conv(backend, x, filter, g, outShape, epilogue) {
    const {epilogue: shaderEpilogue, intermediates} = webglEpilogue(epilogue, backend);
    try {
      // Rank-3 (1D) tensors are the rank-4 ones of height 1: the same textures.
      return runIm2colConv(backend, {...x, shape: g.inShape}, {...filter, shape: g.filterShape},
                           g, shaderEpilogue, outShape.length as 3 | 4);
    } finally {
      for (const t of intermediates) backend.disposeIntermediateTensorInfo(t);
    }
  },
  convTranspose(backend, dy, filter, g) {
    return runIm2colConvTranspose(backend, {...dy, shape: g.outShape},
                                  {...filter, shape: g.filterShape}, g);
  },
  conv3d: (backend, x, filter, g) => runVol2colConv(backend, x, filter, g),
  conv3dTranspose: (backend, dy, filter, g) => runVol2colConvTranspose(backend, dy, filter, g),
  vol2col(backend, x, g) {
    const out = runVol2col(backend, x, g);
    return {out, workspaceBytes: 4 * valueCount(out.shape)};
  },
  im2col(backend, x, g) {
    const out = runIm2col(backend, x, g);
    return {out, workspaceBytes: 4 * valueCount(out.shape)};
  },
  col2im: (backend, patches, g) =>
      backend.runWebGLProgram(new Col2imProgram(g), [patches], 'float32'),
};

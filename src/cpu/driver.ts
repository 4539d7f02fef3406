/**
 * The cpu backend's driver: convolutions tiled within IM2COL_WORKSPACE_BYTES on the CPU GEMM
 * (WebAssembly SIMD, or the TypeScript fallback), reading and writing the backend's own
 * typed arrays.
 */
import type {TensorInfo} from '@tensorflow/tfjs-core';
import {util} from '@tensorflow/tfjs-core';
import type {MathBackendCPU} from '@tensorflow/tfjs-backend-cpu';
import {BackendDriver, FAMILY_KERNELS} from '../engine/driver';
import {patchLength, patchLength3d} from '../geometry';
import {convolveFilterGradient, convolveVolumeFilterGradient} from './conv_filter_gradient';
import {convolveIm2col, convolveVolume} from './conv_im2col';
import {convolveTranspose, convolveVolumeTranspose} from './conv_transpose';
import {cpuTileEpilogue} from './epilogue';
import {addPatchesToImage, patchMatrix} from './patch_matrix';
import {fillVolumeRows} from './vol2col';

function valuesOf(backend: MathBackendCPU, t: TensorInfo): Float32Array {
  return backend.data.get(t.dataId).values as Float32Array;
}

export const cpuDriver: BackendDriver<MathBackendCPU> = {
  backendName: 'cpu',
  switchedKernels: FAMILY_KERNELS,
  unsupported: () => null,
  conv(backend, x, filter, g, outShape, epilogue) {
    const tile = epilogue == null ? undefined :
        cpuTileEpilogue(epilogue, g, t => valuesOf(backend, t));
    const {out, workspaceBytes} =
        convolveIm2col(valuesOf(backend, x), valuesOf(backend, filter), g, tile, undefined,
                       filter.dataId);
    return {out: backend.makeTensorInfo(outShape, 'float32', out), workspaceBytes};
  },
  convTranspose(backend, dy, filter, g) {
    const {out, workspaceBytes} = convolveTranspose(valuesOf(backend, dy), valuesOf(backend, filter), g);
    return {out: backend.makeTensorInfo(g.inShape, 'float32', out), workspaceBytes};
  },
  convFilterGradient(backend, x, dy, g, filterShape) {
    const {out, workspaceBytes} =
        convolveFilterGradient(valuesOf(backend, x), valuesOf(backend, dy), g);
    return {out: backend.makeTensorInfo(filterShape, 'float32', out), workspaceBytes};
  },
  conv3d(backend, x, filter, g) {
    const {out, workspaceBytes} = convolveVolume(valuesOf(backend, x), valuesOf(backend, filter), g);
    return {out: backend.makeTensorInfo(g.outShape, 'float32', out), workspaceBytes};
  },
  conv3dFilterGradient(backend, x, dy, g) {
    const {out, workspaceBytes} =
        convolveVolumeFilterGradient(valuesOf(backend, x), valuesOf(backend, dy), g);
    return {out: backend.makeTensorInfo(g.filterShape, 'float32', out), workspaceBytes};
  },
  conv3dTranspose(backend, dy, filter, g) {
    const {out, workspaceBytes} =
        convolveVolumeTranspose(valuesOf(backend, dy), valuesOf(backend, filter), g);
    return {out: backend.makeTensorInfo(g.inShape, 'float32', out), workspaceBytes};
  },
  vol2col(backend, x, g) {
    const positions = g.outDepth * g.outHeight * g.outWidth;
    const depth = patchLength3d(g);
    const patches = new Float32Array(g.batchSize * positions * depth);
    fillVolumeRows(valuesOf(backend, x), g, 0, g.batchSize * positions, patches, 0, depth);
    return {out: backend.makeTensorInfo([g.batchSize, positions, depth], 'float32', patches),
            workspaceBytes: patches.byteLength};
  },
  im2col(backend, x, g) {
    const patches = patchMatrix(valuesOf(backend, x), g);
    const shape = [g.batchSize, g.outHeight * g.outWidth, patchLength(g)];
    return {out: backend.makeTensorInfo(shape, 'float32', patches),
            workspaceBytes: patches.byteLength};
  },
  col2im(backend, patches, g) {
    const image = new Float32Array(util.sizeFromShape(g.inShape));
    addPatchesToImage(valuesOf(backend, patches), g, image);
    return backend.makeTensorInfo(g.inShape, 'float32', image);
  },
};

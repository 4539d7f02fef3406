/**
 * The wasm backend's driver: the cpu driver's convolution (conv_im2col.ts, on the CPU GEMM)
 * reading its inputs as views of the wasm backend's heap and writing straight into the
 * output's heap memory. tfjs's wasm backend has no NCHW Conv2D and no Conv2DBackpropFilter:
 * these kernels run NCHW, and under useIm2col the im2col gradients (Im2col, Col2im and
 * tfjs's MatMul) train conv nets without that kernel.
 *
 * The output is allocated first: makeOutput can grow the backend's memory, which detaches
 * every view taken before it. Nothing between taking the views and returning calls into the
 * backend.
 */
import type {TensorInfo} from '@tensorflow/tfjs-core';
import type {BackendWasm} from '@tensorflow/tfjs-backend-wasm';
import {Conv2D, FusedConv2D} from '@tensorflow/tfjs-core';
import type {BackendDriver} from '../engine/driver';
import {patchLength, patchLength3d} from '../geometry';
import {convolveIm2col, convolveVolume} from '../cpu/conv_im2col';
import {convolveTranspose, convolveVolumeTranspose} from '../cpu/conv_transpose';
import {fillVolumeRows} from '../cpu/vol2col';
import {cpuTileEpilogue} from '../cpu/epilogue';
import {addPatchesToImage, fillPatchRows} from '../cpu/patch_matrix';

function viewOf(backend: BackendWasm, t: TensorInfo): Float32Array {
  return backend.typedArrayFromHeap(t) as Float32Array;
}

export const wasmDriver: BackendDriver<BackendWasm> = {
  backendName: 'wasm',
  switchedByDefault: false,
  switchedKernels: [Conv2D, FusedConv2D],
  unsupported: () => null,
  conv(backend, x, filter, g, outShape, epilogue) {
    const out = backend.makeOutput(outShape, 'float32');
    const tile = epilogue == null ? undefined :
        cpuTileEpilogue(epilogue, g, t => viewOf(backend, t));
    const {workspaceBytes} = convolveIm2col(viewOf(backend, x), viewOf(backend, filter), g, tile,
                                            viewOf(backend, out));
    return {out, workspaceBytes};
  },
  convTranspose(backend, dy, filter, g) {
    const out = backend.makeOutput(g.inShape, 'float32');
    const {workspaceBytes} = convolveTranspose(viewOf(backend, dy), viewOf(backend, filter), g,
                                               viewOf(backend, out));
    return {out, workspaceBytes};
  },
  conv3d(backend, x, filter, g) {
    const out = backend.makeOutput(g.outShape, 'float32');
    const {workspaceBytes} = convolveVolume(viewOf(backend, x), viewOf(backend, filter), g,
                                            viewOf(backend, out));
    return {out, workspaceBytes};
  },
  conv3dTranspose(backend, dy, filter, g) {
    const out = backend.makeOutput(g.inShape, 'float32');
    const {workspaceBytes} = convolveVolumeTranspose(viewOf(backend, dy),
                                                     viewOf(backend, filter), g,
                                                     viewOf(backend, out));
    return {out, workspaceBytes};
  },
  vol2col(backend, x, g) {
    const positions = g.outDepth * g.outHeight * g.outWidth;
    const depth = patchLength3d(g);
    const out = backend.makeOutput([g.batchSize, positions, depth], 'float32');
    const patches = viewOf(backend, out);
    fillVolumeRows(viewOf(backend, x), g, 0, g.batchSize * positions, patches, 0, depth);
    return {out, workspaceBytes: patches.byteLength};
  },
  im2col(backend, x, g) {
    const rows = g.batchSize * g.outHeight * g.outWidth;
    const out = backend.makeOutput([g.batchSize, g.outHeight * g.outWidth, patchLength(g)],
                                   'float32');
    const patches = viewOf(backend, out);
    fillPatchRows(viewOf(backend, x), g, 0, rows, patches);
    return {out, workspaceBytes: patches.byteLength};
  },
  col2im(backend, patches, g) {
    const out = backend.makeOutput(g.inShape, 'float32');
    // col2im adds onto the image: the fresh heap memory is not cleared.
    const image = viewOf(backend, out).fill(0);
    addPatchesToImage(viewOf(backend, patches), g, image);
    return out;
  },
};

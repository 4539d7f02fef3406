/**
 * The wasm backend's driver: the cpu driver's convolutions (src/cpu/, on the CPU GEMM)
 * reading their inputs as views of the wasm backend's heap and writing straight into the
 * output's heap memory. tfjs's wasm backend has no NCHW convolutions, no filter gradients
 * (Conv2DBackpropFilter, DepthwiseConv2dNativeBackpropFilter) and no depthwise input
 * gradient: under useIm2col these kernels supply them, so conv nets train on wasm. XNNPACK's
 * forward kernels keep the NHWC calls they accept (handsToBackend): faster in whole models, but
 * for the 2D convolutions that this package's worker threads run faster (IM2COL_CPU_THREADS).
 *
 * The output is allocated first: makeOutput can grow the backend's memory, which detaches
 * every view taken before it. Nothing between taking the views and returning calls into the
 * backend.
 */
import type {TensorInfo} from '@tensorflow/tfjs-core';
import type {BackendWasm} from '@tensorflow/tfjs-backend-wasm';
import {Conv2D, DepthwiseConv2dNative, FusedConv2D, FusedDepthwiseConv2D} from '@tensorflow/tfjs-core';
import {FAMILY_KERNELS} from '../engine/driver';
import type {BackendDriver, KernelArgs} from '../engine/driver';
import {patchLength, patchLength3d} from '../geometry';
import {convolveFilterGradient, convolveVolumeFilterGradient} from '../cpu/conv_filter_gradient';
import {convolveIm2col, convolveVolume} from '../cpu/conv_im2col';
import {convolveTranspose, convolveVolumeTranspose} from '../cpu/conv_transpose';
import {fillVolumeRows} from '../cpu/vol2col';
import {cpuTileEpilogue} from '../cpu/epilogue';
import {addPatchesToImage, fillPatchRows} from '../cpu/patch_matrix';
import {cpuThreads} from '../config';
import {minThreadedWork} from '../cpu/threads/threaded_conv';
import {sharedIdentityConfig} from './identity';

function viewOf(backend: BackendWasm, t: TensorInfo): Float32Array {
  return backend.typedArrayFromHeap(t) as Float32Array;
}

/** Activations tfjs's wasm fused convolutions fuse (its FusableActivation). */
const XNNPACK_ACTIVATIONS = ['linear', 'relu', 'relu6', 'prelu', 'leakyrelu', 'sigmoid', 'elu'];

/** The forward kernels whose calls XNNPACK keeps where it accepts them. */
const XNNPACK_KEEPS = [Conv2D, FusedConv2D, DepthwiseConv2dNative, FusedDepthwiseConv2D];

/**
 * Whether tfjs's wasm kernel (XNNPACK) accepts this forward call: NHWC, a bias and PReLU
 * weights of one value per output channel, an activation it fuses. XNNPACK runs these
 * faster than im2col in whole models (docs/models.md); the others (NCHW, broadcast
 * operands, tanh) run on im2col.
 */
function xnnpackAccepts(kernelName: string, {inputs: {filter, bias, preluActivationWeights},
                                             attrs}: KernelArgs): boolean {
  const [, , inChannels, outChannels] = filter!.shape;
  const depthwise = kernelName === DepthwiseConv2dNative || kernelName === FusedDepthwiseConv2D;
  const channels = depthwise ? inChannels * outChannels : outChannels;
  const perChannel = (t: TensorInfo | undefined) =>
      t == null || (t.shape.length === 1 && t.shape[0] === channels);
  return (attrs.dataFormat ?? 'NHWC') === 'NHWC' &&
      XNNPACK_ACTIVATIONS.includes((attrs.activation as string | undefined) ?? 'linear') &&
      perChannel(bias) && perChannel(preluActivationWeights);
}

/**
 * Whether this package's threaded 2D convolution runs this call faster than XNNPACK, which
 * runs one thread in Node: a Conv2D or FusedConv2D with IM2COL_CPU_THREADS over 1 and work
 * (output positions, estimated from the strides, times the patch and the output channels)
 * above the threads' threshold.
 */
function threadsRunFaster(kernelName: string, {inputs: {x, filter}, attrs}: KernelArgs): boolean {
  if (kernelName !== Conv2D && kernelName !== FusedConv2D) return false;
  if (cpuThreads() === 1) return false;
  const [batch, height, width] = x!.shape;
  const [filterHeight, filterWidth, inChannels, outChannels] = filter!.shape;
  const strides = attrs.strides as number | [number, number];
  const [strideHeight, strideWidth] = typeof strides === 'number' ? [strides, strides] : strides;
  const positions = batch * Math.ceil(height / strideHeight) * Math.ceil(width / strideWidth);
  return positions * filterHeight * filterWidth * inChannels * outChannels >= minThreadedWork;
}

export const wasmDriver: BackendDriver<BackendWasm> = {
  backendName: 'wasm',
  switchedKernels: FAMILY_KERNELS,
  companionKernels: [sharedIdentityConfig],
  handsToBackend: (kernelName, args) => XNNPACK_KEEPS.includes(kernelName) &&
      xnnpackAccepts(kernelName, args) && !threadsRunFaster(kernelName, args),
  unsupported: () => null,
  conv(backend, x, filter, g, outShape, epilogue) {
    const out = backend.makeOutput(outShape, 'float32');
    const tile = epilogue == null ? undefined :
        cpuTileEpilogue(epilogue, g, t => viewOf(backend, t));
    const {workspaceBytes} = convolveIm2col(viewOf(backend, x), viewOf(backend, filter), g, tile,
                                            viewOf(backend, out), filter.dataId);
    return {out, workspaceBytes};
  },
  convTranspose(backend, dy, filter, g) {
    const out = backend.makeOutput(g.inShape, 'float32');
    const {workspaceBytes} = convolveTranspose(viewOf(backend, dy), viewOf(backend, filter), g,
                                               viewOf(backend, out));
    return {out, workspaceBytes};
  },
  convFilterGradient(backend, x, dy, g, filterShape) {
    const out = backend.makeOutput(filterShape, 'float32');
    const {workspaceBytes} = convolveFilterGradient(viewOf(backend, x), viewOf(backend, dy), g,
                                                    viewOf(backend, out));
    return {out, workspaceBytes};
  },
  conv3d(backend, x, filter, g) {
    const out = backend.makeOutput(g.outShape, 'float32');
    const {workspaceBytes} = convolveVolume(viewOf(backend, x), viewOf(backend, filter), g,
                                            viewOf(backend, out));
    return {out, workspaceBytes};
  },
  conv3dFilterGradient(backend, x, dy, g) {
    const out = backend.makeOutput(g.filterShape, 'float32');
    const {workspaceBytes} = convolveVolumeFilterGradient(viewOf(backend, x), viewOf(backend, dy),
                                                          g, viewOf(backend, out));
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

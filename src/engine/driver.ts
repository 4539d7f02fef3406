/**
 * What a backend gives the engine: one driver per backend (cpu/driver.ts, webgl/driver.ts).
 * The kernel factory (src/kernels/) builds every kernel of this package, and the stand-ins
 * useIm2col swaps in for tfjs's own, from a driver; src/register.ts registers them. A new
 * backend is one driver plus one `registerDriver` call.
 *
 * A driver works on the backend's own TensorInfos and storage. The geometry is checked and
 * complete; the driver may read x and filter under the geometry's rank-4 shapes (`g.inShape`,
 * `g.filterShape`) whatever their own rank (a 1D convolution is the 2D one of height 1).
 * The gradients need nothing more: they are GEMMs (tfjs's MatMul on the same backend) beside
 * this package's Im2col and Col2im kernels.
 */
import {Conv2D, Conv2DBackpropFilter, Conv2DBackpropInput, Conv3D, Conv3DBackpropInputV2, DepthwiseConv2dNative, DepthwiseConv2dNativeBackpropFilter, DepthwiseConv2dNativeBackpropInput, FusedConv2D, FusedDepthwiseConv2D} from '@tensorflow/tfjs-core';
import type {KernelBackend, KernelConfig, NamedAttrMap, TensorInfo} from '@tensorflow/tfjs-core';
import type {Conv3dGeometry, ConvGeometry} from '../geometry';
import type {Epilogue} from './epilogue';

/**
 * The tfjs kernels a driver's stand-ins can replace (src/kernels/index.ts builds them): the
 * convolution family and the input and filter gradients tfjs's registered gradients run.
 */
export const FAMILY_KERNELS: readonly string[] = [
  Conv2D, FusedConv2D, DepthwiseConv2dNative, FusedDepthwiseConv2D, Conv2DBackpropInput,
  DepthwiseConv2dNativeBackpropInput, Conv3D, Conv3DBackpropInputV2, Conv2DBackpropFilter,
  DepthwiseConv2dNativeBackpropFilter
];

/** A kernel call's inputs and attributes, as tfjs passes them. */
export interface KernelArgs {
  inputs: {[name: string]: TensorInfo | undefined};
  attrs: NamedAttrMap;
}

export interface DriverResult {
  out: TensorInfo;
  /** The largest patch-matrix workspace the call used, in bytes (kernelStats). */
  workspaceBytes: number;
}

export interface BackendDriver<B extends KernelBackend = KernelBackend> {
  /** The tfjs backend this driver's kernels are registered for. */
  readonly backendName: string;
  /**
   * The tfjs kernels `useIm2col()` swaps on this backend unless told which (its `kernels`
   * option): those the benchmarks show at least as fast here as the backend's own.
   */
  readonly switchedKernels: readonly string[];
  /**
   * tfjs kernels outside the family that useIm2col replaces on this backend whenever it
   * switches it (whatever its `kernels` option) and puts back on restore, for training to
   * work as on the cpu backend (the wasm backend's Identity, src/wasm/identity.ts).
   */
  readonly companionKernels?: readonly KernelConfig[];
  /**
   * Whether the stand-in for `kernelName` hands this call to the backend's own kernel, which
   * runs it faster (the wasm backend's XNNPACK forward kernels, for the calls they accept).
   * Absent: every call runs on im2col.
   */
  handsToBackend?(kernelName: string, args: KernelArgs): boolean;
  /**
   * Why the backend cannot run these kernels now (e.g. WebGL 1), or null. Then the package's
   * own kernels throw it, and the stand-ins hand their calls to tfjs's own kernels.
   */
  unsupported(): string | null;
  /**
   * im2col, one GEMM by the filter matrix per channel group (g.groups; a depthwise
   * convolution is inChannels groups, its filter read as g.filterShape) and the epilogue
   * (null: none): the convolution of geometry `g`, returned as a tensor of `outShape`
   * (g.outShape, or for a 1D convolution the same values as rank 3).
   */
  conv(backend: B, x: TensorInfo, filter: TensorInfo, g: ConvGeometry, outShape: number[],
       epilogue: Epilogue<TensorInfo> | null): DriverResult;
  /**
   * The transposed convolution: the input gradient of the convolution `g` (groups too),
   * an image of g.inShape from `dy` of g.outShape. Per group the GEMM dY · Wᵀ gives the
   * patch-matrix rows, which col2im adds onto the image.
   */
  convTranspose(backend: B, dy: TensorInfo, filter: TensorInfo, g: ConvGeometry): DriverResult;
  /** vol2col and one GEMM: the 3D convolution of geometry `g`, shaped g.outShape. */
  conv3d(backend: B, x: TensorInfo, filter: TensorInfo, g: Conv3dGeometry): DriverResult;
  /**
   * The filter gradient of the convolution `g` (groups too), g.filterShape's values from x
   * (g.inShape) and dy (g.outShape), returned as a tensor of `filterShape` (g.filterShape,
   * or a depthwise filter's [kh, kw, C, multiplier]): Pᵀ · dY, P the patch matrix. Optional: a driver whose
   * backend's own filter-gradient kernels are kept (webgl) leaves it out, and then has no
   * stand-ins for Conv2DBackpropFilter and DepthwiseConv2dNativeBackpropFilter.
   */
  convFilterGradient?(backend: B, x: TensorInfo, dy: TensorInfo, g: ConvGeometry,
                      filterShape: number[]): DriverResult;
  /**
   * The 3D convolution's filter gradient (g.filterShape) from x (g.inShape) and dy
   * (g.outShape), vol2col's patch rows a tile at a time. Optional: without it the gradient
   * builds vol2col's whole patch matrix and multiplies it by tfjs's MatMul (webgl).
   */
  conv3dFilterGradient?(backend: B, x: TensorInfo, dy: TensorInfo, g: Conv3dGeometry):
      DriverResult;
  /** The 3D transposed convolution: x's gradient (g.inShape) from dy (g.outShape). */
  conv3dTranspose(backend: B, dy: TensorInfo, filter: TensorInfo, g: Conv3dGeometry):
      DriverResult;
  /** The whole 3D patch matrix, [batch, outDepth * outHeight * outWidth, patchLength3d]. */
  vol2col(backend: B, x: TensorInfo, g: Conv3dGeometry): DriverResult;
  /** The whole patch matrix, [batch, outHeight * outWidth, patchLength]. */
  im2col(backend: B, x: TensorInfo, g: ConvGeometry): DriverResult;
  /** col2im: patch-matrix rows added back onto an image of g.inShape (im2col's adjoint). */
  col2im(backend: B, patches: TensorInfo, g: ConvGeometry): TensorInfo;
}

/**
 * Gradients of this package's kernels, registered with tfjs with its kernels (register.ts). Each is im2col-based
 * (conv2d_backprop), so every setting the forward pass accepts, dilation included, has one.
 * FusedIm2colConv2D gets its gradient from its op (fusedIm2colConv2d), as tfjs's FusedConv2D
 * does: a registered gradient cannot save optional inputs (bias, PReLU weights).
 */
import {engine, getKernel, GradConfig, matMul, registerGradient, reshape, Tensor, Tensor4D, Tensor5D, transpose} from '@tensorflow/tfjs-core';
import {conv1dAs2d, Conv2dSettings} from '../geometry';
import {Col2im, Col2imAttrs, Im2col, Im2colAttrs, Im2colConv1D, Im2colConv1DAttrs, Im2colConv2D, Im2colConv2DAttrs, Im2colConv2DBackpropInput, Im2colConv2DBackpropInputAttrs, Im2colConv3D, Im2colConv3DAttrs, Im2colConv3DBackpropFilter, Im2colConv3DBackpropFilterAttrs, Im2colConv3DBackpropInput, Im2colConv3DBackpropInputAttrs, Im2colDepthwiseConv2D, Im2colDepthwiseConv2DAttrs, Vol2col, Vol2colAttrs} from '../kernel_names';
import {registerOnce} from '../state';
import {conv2dBackprop, runCol2im, runIm2col} from './conv2d_backprop';

export const im2colConv2DGradConfig: GradConfig = {
  kernelName: Im2colConv2D,
  inputsToSave: ['x', 'filter'],
  gradFunc: (dy, saved, attrs) => {
    const [x, filter] = saved as Tensor4D[];
    const grads = conv2dBackprop(dy as Tensor4D, x, filter,
                                 attrs as unknown as Im2colConv2DAttrs);
    return {x: grads.dx, filter: grads.dFilter};
  }
};

/** A 1D convolution's gradients are the 2D ones on an image of height 1. */
export const im2colConv1DGradConfig: GradConfig = {
  kernelName: Im2colConv1D,
  inputsToSave: ['x', 'filter'],
  gradFunc: (dyOrList, saved, attrs) => {
    const dy = dyOrList as Tensor;
    const [x, filter] = saved as Tensor[];
    const {x4dShape, filter4dShape, settings2d} =
        conv1dAs2d(x.shape, filter.shape, attrs as unknown as Im2colConv1DAttrs);
    const to4d = (t: Tensor, shape: number[]) =>
        reshape(t, shape as [number, number, number, number]) as Tensor4D;
    const [batch, d1, d2] = dy.shape as number[];
    const dy4dShape = settings2d.dataFormat === 'NHWC' ? [batch, 1, d1, d2] : [batch, d1, 1, d2];
    const grads = conv2dBackprop(to4d(dy, dy4dShape), to4d(x, x4dShape),
                                 to4d(filter, filter4dShape), settings2d);
    return {x: () => reshape(grads.dx(), x.shape), filter: () => reshape(grads.dFilter(), filter.shape)};
  }
};

/** The patch matrix gathers x, so its gradient scatters back: col2im. */
export const im2colGradConfig: GradConfig = {
  kernelName: Im2col,
  inputsToSave: ['x'],
  gradFunc: (dy, saved, attrs) => {
    const [x] = saved;
    return {x: () => runCol2im(dy as Tensor, {...attrs as unknown as Im2colAttrs,
                                              inputShape: x.shape as Col2imAttrs['inputShape']})};
  }
};

/** col2im is im2col's adjoint, so its gradient is im2col. */
export const col2imGradConfig: GradConfig = {
  kernelName: Col2im,
  gradFunc: (dy, _saved, attrs) => {
    const {inputShape, ...patchAttrs} = attrs as unknown as Col2imAttrs;
    return {x: () => runIm2col(dy as Tensor, patchAttrs)};
  }
};

/** A depthwise filter [kh, kw, inC, multiplier] in its grouped form [kh, kw, 1, inC * multiplier]. */
function groupedFilter(filter: Tensor4D): Tensor4D {
  const [filterHeight, filterWidth, inChannels, multiplier] = filter.shape;
  return reshape(filter, [filterHeight, filterWidth, 1, inChannels * multiplier]);
}

/** A depthwise convolution's gradients are the grouped convolution's (one channel a group). */
export const im2colDepthwiseConv2DGradConfig: GradConfig = {
  kernelName: Im2colDepthwiseConv2D,
  inputsToSave: ['x', 'filter'],
  gradFunc: (dy, saved, attrs) => {
    const [x, filter] = saved as Tensor4D[];
    const grads = conv2dBackprop(dy as Tensor4D, x, groupedFilter(filter),
                                 attrs as unknown as Im2colDepthwiseConv2DAttrs as Conv2dSettings);
    return {x: grads.dx, filter: () => reshape(grads.dFilter(), filter.shape)};
  }
};

/**
 * The transposed convolution is the forward one's input gradient, so its gradients are the
 * forward convolution of the output gradient (for its input) and the forward filter
 * gradient with the roles of x and dy exchanged (for the filter).
 */
export const im2colConv2DBackpropInputGradConfig: GradConfig = {
  kernelName: Im2colConv2DBackpropInput,
  inputsToSave: ['dy', 'filter'],
  gradFunc: (gradient, saved, attrs) => {
    const [dy, filter] = saved as Tensor4D[];
    const {inputShape, dimRoundingMode, ...rest} = attrs as unknown as Im2colConv2DBackpropInputAttrs;
    const settings: Conv2dSettings = {...rest, dilations: rest.dilations ?? 1, dimRoundingMode};
    return {
      dy: () => engine().runKernel(Im2colConv2D, {x: gradient as Tensor, filter},
                                   settings as unknown as {}) as Tensor,
      filter: () => conv2dBackprop(dy, gradient as Tensor4D, filter, settings).dFilter()
    };
  }
};

/** Output-gradient rows [positions, outChannels] of a 3D convolution. */
function volumeRows(dy: Tensor, dataFormat: Im2colConv3DAttrs['dataFormat']): Tensor {
  const channelsLast = dataFormat === 'NCDHW' ? transpose(dy, [0, 2, 3, 4, 1]) : dy;
  return reshape(channelsLast, [-1, channelsLast.shape[4] as number]);
}

/**
 * dW = vol2col(x)ᵀ · dY, the 3D filter gradient: the Im2colConv3DBackpropFilter kernel (tiled
 * within the workspace) where the backend has it, else vol2col's whole patch matrix and
 * tfjs's MatMul.
 */
function conv3dFilterGradient(x: Tensor, dy: Tensor, filterShape: number[],
                              settings: Im2colConv3DAttrs): Tensor {
  if (getKernel(Im2colConv3DBackpropFilter, engine().backendName) != null) {
    const attrs: Im2colConv3DBackpropFilterAttrs = {
      ...settings, filterShape: filterShape as Im2colConv3DBackpropFilterAttrs['filterShape']
    };
    return engine().runKernel(Im2colConv3DBackpropFilter, {x, dy}, attrs as unknown as {}) as
        Tensor;
  }
  const [filterDepth, filterHeight, filterWidth] = filterShape;
  const vol2colAttrs: Vol2colAttrs = {...settings,
                                      filterSize: [filterDepth, filterHeight, filterWidth]};
  const patches = engine().runKernel(Vol2col, {x}, vol2colAttrs as unknown as {}) as Tensor;
  const depth = patches.shape[2] as number;
  return reshape(matMul(reshape(patches, [-1, depth]), volumeRows(dy, settings.dataFormat),
                        true, false), filterShape);
}

/** A 3D convolution's gradients: the transposed 3D convolution, and vol2col's GEMM. */
export function conv3dGradients(dy: Tensor, x: Tensor5D, filter: Tensor5D,
                                settings: Im2colConv3DAttrs): {x: () => Tensor, filter: () => Tensor} {
  const transposeAttrs: Im2colConv3DBackpropInputAttrs = {
    ...settings, inputShape: x.shape as Im2colConv3DBackpropInputAttrs['inputShape']
  };
  return {
    x: () => engine().runKernel(Im2colConv3DBackpropInput, {dy, filter},
                                transposeAttrs as unknown as {}) as Tensor,
    filter: () => conv3dFilterGradient(x, dy, filter.shape, settings)
  };
}

export const im2colConv3DGradConfig: GradConfig = {
  kernelName: Im2colConv3D,
  inputsToSave: ['x', 'filter'],
  gradFunc: (dy, saved, attrs) => {
    const [x, filter] = saved as Tensor5D[];
    return conv3dGradients(dy as Tensor, x, filter, attrs as unknown as Im2colConv3DAttrs);
  }
};

/** The transposed 3D convolution's gradients, as the 2D one's. */
export const im2colConv3DBackpropInputGradConfig: GradConfig = {
  kernelName: Im2colConv3DBackpropInput,
  inputsToSave: ['dy', 'filter'],
  gradFunc: (gradient, saved, attrs) => {
    const [dy, filter] = saved as Tensor5D[];
    const {inputShape, ...settings} = attrs as unknown as Im2colConv3DBackpropInputAttrs;
    return {
      dy: () => engine().runKernel(Im2colConv3D, {x: gradient as Tensor, filter},
                                   settings as unknown as {}) as Tensor,
      filter: () => conv3dFilterGradient(gradient as Tensor, dy, filter.shape, settings)
    };
  }
};

/** Registers the gradients above, once per realm (several copies of the package may load). */
export function registerIm2colGradients(): void {
  registerOnce('gradients', () => {
    for (const config of [im2colConv2DGradConfig, im2colConv1DGradConfig, im2colGradConfig,
                          col2imGradConfig, im2colDepthwiseConv2DGradConfig,
                          im2colConv2DBackpropInputGradConfig, im2colConv3DGradConfig,
                          im2colConv3DBackpropInputGradConfig]) {
      registerGradient(config);
    }
  });
}

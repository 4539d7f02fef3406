/**
 * The gradients of a 2D convolution, the im2col way, for any stride, dilation, padding and
 * data format the forward pass accepts (tfjs 4.22's own refuse dilation > 1):
 *   filter gradient  dW = Pᵀ · dY        (P the patch matrix of x, dY one row per output position)
 *   input gradient   dx = col2im(dY · Wᵀ) (the patch-matrix gradient scattered back)
 * Both are one GEMM (tfjs's matMul on the active backend) next to this package's Im2col or
 * Col2im kernel.
 */
import {engine, getBackend, getKernel, matMul, reshape, Tensor, Tensor4D, transpose} from '@tensorflow/tfjs-core';
import type {Conv2dSettings} from '../conv_geometry';
import {Col2im, Col2imAttrs, FusedIm2colConv2D, Im2col, Im2colAttrs} from '../kernel_names';

export interface Conv2dGradients {
  dx: () => Tensor4D;
  dFilter: () => Tensor4D;
}

/**
 * Whether the active backend has every kernel the im2col gradients run (Im2col, Col2im, and
 * FusedIm2colConv2D, which recomputes a PReLU/leaky-ReLU input).
 */
export function im2colGradientsAvailable(): boolean {
  const backend = getBackend();
  return [Im2col, Col2im, FusedIm2colConv2D].every(name => getKernel(name, backend) != null);
}

/** Patch-matrix attributes of a convolution with this filter size and these settings. */
export function patchAttrs(filterShape: number[], settings: Conv2dSettings): Im2colAttrs {
  const {strides, pad, dilations, dataFormat, dimRoundingMode} = settings;
  return {filterSize: [filterShape[0], filterShape[1]], strides, pad, dilations, dataFormat,
          dimRoundingMode};
}

/** The patch matrix of `x`, [batch, outHeight * outWidth, kh * kw * inChannels]. */
export function runIm2col(x: Tensor, attrs: Im2colAttrs): Tensor {
  return engine().runKernel(Im2col, {x}, attrs as unknown as {}) as Tensor;
}

/** col2im of patch-matrix rows back into an image of `inputShape`. */
export function runCol2im(patches: Tensor, attrs: Col2imAttrs): Tensor4D {
  return engine().runKernel(Col2im, {x: patches}, attrs as unknown as {}) as Tensor4D;
}

/** `dy` (the convolution's output layout) as [batch * outHeight * outWidth, outChannels]. */
function outputRows(dy: Tensor4D, dataFormat: Conv2dSettings['dataFormat']): Tensor {
  const channelsLast = dataFormat === 'NHWC' ? dy : transpose(dy, [0, 2, 3, 1]);
  return reshape(channelsLast, [-1, channelsLast.shape[3]]);
}

export function conv2dBackprop(dy: Tensor4D, x: Tensor4D, filter: Tensor4D,
                               settings: Conv2dSettings): Conv2dGradients {
  const attrs = patchAttrs(filter.shape, settings);
  const [filterHeight, filterWidth, inChannels, outChannels] = filter.shape;
  const depth = filterHeight * filterWidth * inChannels;
  return {
    dFilter: () => {
      const patches = reshape(runIm2col(x, attrs), [-1, depth]);
      return reshape(matMul(patches, outputRows(dy, settings.dataFormat), true, false),
                     filter.shape);
    },
    dx: () => {
      const patchGradient = matMul(outputRows(dy, settings.dataFormat),
                                   reshape(filter, [depth, outChannels]), false, true);
      const positions = settings.dataFormat === 'NHWC' ? dy.shape[1] * dy.shape[2] :
                                                        dy.shape[2] * dy.shape[3];
      return runCol2im(reshape(patchGradient, [x.shape[0], positions, depth]),
                       {...attrs, inputShape: x.shape});
    }
  };
}

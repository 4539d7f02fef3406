/**
 * Gradients of this package's kernels, registered with tfjs with its kernels (register.ts). Each is im2col-based
 * (conv2d_backprop), so every setting the forward pass accepts, dilation included, has one.
 * FusedIm2colConv2D gets its gradient from its op (fusedIm2colConv2d), as tfjs's FusedConv2D
 * does: a registered gradient cannot save optional inputs (bias, PReLU weights).
 */
import {GradConfig, registerGradient, reshape, Tensor, Tensor4D} from '@tensorflow/tfjs-core';
import {conv1dAs2d} from '../geometry';
import {Col2im, Col2imAttrs, Im2col, Im2colAttrs, Im2colConv1D, Im2colConv1DAttrs, Im2colConv2D, Im2colConv2DAttrs} from '../kernel_names';
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

/** Registers the gradients above, once per realm (several copies of the package may load). */
export function registerIm2colGradients(): void {
  registerOnce('gradients', () => {
    for (const config of [im2colConv2DGradConfig, im2colConv1DGradConfig, im2colGradConfig,
                          col2imGradConfig]) {
      registerGradient(config);
    }
  });
}

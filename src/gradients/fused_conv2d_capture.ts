/**
 * tf.fused.conv2d (what tf.layers conv2d and converted models call) attaches its gradient
 * with customGrad, as a closure that refuses dilation > 1 and NCHW; no registered gradient
 * can replace it. While useIm2col is on, the engine's customGrad is wrapped: when the custom
 * function ran a FusedConv2D stand-in and returns that call's output, its gradient becomes
 * fusedConv2dBackprop with the call's attributes.
 */
import {engine, reshape, Tensor, Tensor4D, TensorInfo} from '@tensorflow/tfjs-core';
import {conv2dGeometry, Conv2dSettings, tfjsConv2dGeometry} from '../geometry';
import type {FusedIm2colConv2DAttrs} from '../kernel_names';
import {state} from '../state';
import {im2colGradientsAvailable} from './conv2d_backprop';
import {fusedConv2dBackprop} from './fused_conv2d_backprop';

interface FusedCall {
  dataId: object;
  attrs: FusedIm2colConv2DAttrs;
}

/** The FusedConv2D call made inside the innermost custom function now running. */
let capture: {call?: FusedCall} | null = null;

/** Told of each FusedConv2D stand-in call (state.onFusedConv2dCall) while bridged. */
function recordFusedConv2dCall(result: TensorInfo, attrs: object): void {
  if (capture != null) capture.call = {dataId: result.dataId, attrs: attrs as FusedIm2colConv2DAttrs};
}

/**
 * True where tfjs's geometry is the true one, so im2col gradients match tfjs's forward
 * pass: always, except numeric pads with non-square filters or strides.
 */
export function tfjsGeometryIsTrue(xShape: number[], filterShape: number[],
                                   settings: Conv2dSettings): boolean {
  const ours = conv2dGeometry(xShape, filterShape, settings);
  const theirs = tfjsConv2dGeometry(xShape, filterShape, settings);
  return ours.outShape.every((size, i) => size === theirs.outShape[i]) &&
      ours.padInfo.top === theirs.padInfo.top && ours.padInfo.left === theirs.padInfo.left;
}

type CustomGradResult = {value: Tensor, gradFunc: (dy: Tensor, saved: Tensor[]) => Tensor[]};
type CustomGrad = (f: (...args: unknown[]) => CustomGradResult) => unknown;

/** Wraps the engine's customGrad; returns the function that unwraps it. */
export function bridgeFusedConv2dGradients(): () => void {
  const target = engine() as unknown as {customGrad: CustomGrad};
  const hadOwn = Object.prototype.hasOwnProperty.call(target, 'customGrad');
  const original = target.customGrad;
  state.onFusedConv2dCall = recordFusedConv2dCall;
  target.customGrad = function(this: unknown, f) {
    return original.call(this, (...args: unknown[]) => {
      const outer = capture;
      const mine: {call?: FusedCall} = {};
      capture = mine;
      let result: CustomGradResult;
      try {
        result = f(...args);
      } finally {
        capture = outer;
      }
      const call = mine.call;
      // PReLU weights are not an input of tf.fused.conv2d's custom op: tfjs's gradient stays.
      if (call == null || call.dataId !== result.value.dataId ||
          call.attrs.activation === 'prelu') {
        return result;
      }
      return {
        value: result.value,
        gradFunc: (dy: Tensor, saved: Tensor[]) => {
          // tf.fused.conv2d saves [filter, x, y, bias?].
          const [filter, x, y, bias] = saved as Tensor4D[];
          if (!im2colGradientsAvailable() ||
              !tfjsGeometryIsTrue(x.shape, filter.shape, call.attrs)) {
            return result.gradFunc(dy, saved);
          }
          const grads = fusedConv2dBackprop(reshape(dy, y.shape) as Tensor4D,
                                            {x, filter, y, bias}, call.attrs);
          return bias == null ? [grads.dx, grads.dFilter] :
                                [grads.dx, grads.dFilter, grads.dBias as Tensor];
        }
      };
    });
  };
  return () => {
    state.onFusedConv2dCall = null;
    if (hadOwn) {
      target.customGrad = original;
    } else {
      delete (target as {customGrad?: CustomGrad}).customGrad;
    }
  };
}

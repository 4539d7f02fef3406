/**
 * The switch that runs whole tfjs models on im2col: swaps this package's kernels in for the
 * backends' own Conv2D and FusedConv2D (so tf.conv2d, tf.conv1d, tf.fused.conv2d, tf.layers
 * conv1d/conv2d and loaded models use them), and im2col gradients in for Conv2D's registered
 * gradient and tf.fused.conv2d's custom one (so dilated conv layers train).
 */
import {Conv2D, getGradient, getKernel, GradConfig, KernelConfig, registerGradient, registerKernel, Tensor4D, unregisterGradient, unregisterKernel} from '@tensorflow/tfjs-core';
import {Conv2dSettings, describe} from './geometry';
import {conv2dBackprop, im2colGradientsAvailable} from './gradients/conv2d_backprop';
import {bridgeFusedConv2dGradients, tfjsGeometryIsTrue} from './gradients/fused_conv2d_capture';
import {state} from './state';

/** A backend this package has a driver for ('cpu', 'wasm', 'webgl' where their entries are loaded). */
export type Im2colBackendName = 'cpu' | 'wasm' | 'webgl' | (string & {});

export interface UseIm2colOptions {
  /**
   * Backends to switch (default: every loaded backend whose driver is switched by default:
   * cpu and webgl; the wasm backend only when named, see BackendDriver.switchedByDefault).
   */
  backends?: Im2colBackendName[];
}

const standInsFor = (name: string): KernelConfig[] => state.drivers.get(name)?.standIns ?? [];

/**
 * Conv2D's gradient under the switch: im2col; tfjs's own where tfjs's geometry is off or
 * the active backend lacks the im2col gradient kernels (the registry is global, not per
 * backend).
 */
function conv2dGradConfig(original: GradConfig | undefined): GradConfig {
  return {
    kernelName: Conv2D,
    inputsToSave: ['x', 'filter'],
    gradFunc: (dy, saved, attrs) => {
      const [x, filter] = saved as Tensor4D[];
      const settings = attrs as unknown as Conv2dSettings;
      if (original != null && (!im2colGradientsAvailable() ||
                               !tfjsGeometryIsTrue(x.shape, filter.shape, settings))) {
        return original.gradFunc(dy, saved, attrs);
      }
      const grads = conv2dBackprop(dy as Tensor4D, x, filter, settings);
      return {x: grads.dx, filter: grads.dFilter};
    }
  };
}

function swapGradients(): () => void {
  const original = getGradient(Conv2D);
  registerGradient(conv2dGradConfig(original));
  const unbridge = bridgeFusedConv2dGradients();
  return () => {
    unbridge();
    if (original != null) {
      registerGradient(original);
    } else {
      unregisterGradient(Conv2D);
    }
  };
}

function swapKernels(kernels: KernelConfig[]): void {
  for (const config of kernels) {
    unregisterKernel(config.kernelName, config.backendName);
    registerKernel(config);
  }
}

/**
 * Switches tfjs's convolutions to im2col on the given backends and returns the function that
 * restores the original kernels and gradients exactly. Backends already switched are left as
 * they are (their restore belongs to the call that switched them); restoring twice does
 * nothing. Backends loaded after the call are not switched.
 */
export function useIm2col(options: UseIm2colOptions = {}): () => void {
  const drivers = [...state.drivers.keys()];
  const requested: string[] = options.backends ??
      drivers.filter(name => state.drivers.get(name)!.driver.switchedByDefault);
  if (!Array.isArray(requested) || requested.some(b => !drivers.includes(b))) {
    const names = drivers.map(b => `'${b}'`);
    const listed = names.length < 2 ? names.join('') :
        `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}`;
    throw new Error(`useIm2col: option 'backends' must be an array of ${listed} (the backends ` +
        `whose tfjs-im2col drivers are loaded), but got ${describe(requested)}.`);
  }
  const loaded = (name: string) => standInsFor(name).length > 0 &&
      standInsFor(name).every(c => getKernel(c.kernelName, name) != null);
  const missing = requested.filter(name => !loaded(name));
  if (options.backends != null && missing.length > 0) {
    throw new Error(`useIm2col: backend '${missing[0]}' is not loaded or has no tfjs-im2col ` +
        `kernels; import its tfjs package (e.g. @tensorflow/tfjs-backend-${missing[0]}) first.`);
  }
  const {switched} = state;
  const toSwitch = requested.filter(name => loaded(name) && !switched.has(name));
  if (toSwitch.length === 0 && !requested.some(name => switched.has(name))) {
    throw new Error(`useIm2col: none of the backends ${requested.join(', ')} is loaded; ` +
        `import ${requested.map(name => `@tensorflow/tfjs-backend-${name}`).join(' or ')} first.`);
  }
  const originals: KernelConfig[] = [];
  for (const name of toSwitch) {
    const standIns = standInsFor(name);
    for (const config of standIns) {
      const original = getKernel(config.kernelName, name) as KernelConfig;
      originals.push(original);
      state.replaced.set(`${name}/${config.kernelName}`, original);
    }
    swapKernels(standIns);
    switched.add(name);
  }
  if (toSwitch.length > 0 && state.restoreGradients == null) {
    state.restoreGradients = swapGradients();
  }

  let restored = false;
  return () => {
    if (restored) return;
    restored = true;
    swapKernels(originals);
    for (const original of originals) {
      state.replaced.delete(`${original.backendName}/${original.kernelName}`);
    }
    for (const name of toSwitch) switched.delete(name);
    if (switched.size === 0 && state.restoreGradients != null) {
      state.restoreGradients();
      state.restoreGradients = null;
    }
  };
}

/**
 * The switch that runs whole tfjs models on im2col: swaps this package's kernels in for the
 * backends' own convolution family (Conv2D, FusedConv2D, the depthwise, transposed and 3D
 * kernels; so tf.conv2d, tf.conv1d, tf.fused.*, tf.depthwiseConv2d, tf.separableConv2d,
 * tf.conv2dTranspose, tf.conv3d, tf.layers and loaded models use them), and im2col
 * gradients in for the registered gradients of Conv2D and Conv3D and tf.fused.conv2d's custom
 * one (so dilated conv layers train).
 */
import {Conv2D, Conv3D, engine, getGradient, getKernel, GradConfig, KernelConfig, registerGradient, registerKernel, Tensor, Tensor4D, Tensor5D, unregisterGradient, unregisterKernel} from '@tensorflow/tfjs-core';
import {FAMILY_KERNELS} from './engine/driver';
import {Conv2dSettings, Conv3dSettings, describe} from './geometry';
import {conv2dBackprop, im2colGradientsAvailable} from './gradients/conv2d_backprop';
import {conv3dGradients} from './gradients/kernel_gradients';
import {Im2colConv3DBackpropInput, Vol2col} from './kernel_names';
import {bridgeFusedConv2dGradients, tfjsGeometryIsTrue} from './gradients/fused_conv2d_capture';
import {state} from './state';

/** A backend this package has a driver for ('cpu', 'wasm', 'webgl' where their entries are loaded). */
export type Im2colBackendName = 'cpu' | 'wasm' | 'webgl' | (string & {});

export interface UseIm2colOptions {
  /**
   * Backends to switch (default: every loaded backend of cpu, wasm and webgl).
   */
  backends?: Im2colBackendName[];
  /**
   * tfjs kernels to swap (default: on each backend, those its driver lists as at least as
   * fast as the backend's own, and those it lacks; see docs/models.md), from: Conv2D,
   * FusedConv2D, DepthwiseConv2dNative, FusedDepthwiseConv2D, Conv2DBackpropInput,
   * DepthwiseConv2dNativeBackpropInput, Conv3D, Conv3DBackpropInputV2, Conv2DBackpropFilter,
   * DepthwiseConv2dNativeBackpropFilter (the last two where the backend's driver has them:
   * cpu and wasm).
   */
  kernels?: string[];
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

/** Conv3D's gradient under the switch: the transposed 3D im2col kernel and vol2col's GEMM. */
function conv3dGradConfig(original: GradConfig | undefined): GradConfig {
  return {
    kernelName: Conv3D,
    inputsToSave: ['x', 'filter'],
    gradFunc: (dy, saved, attrs) => {
      const backend = engine().backendName;
      if (original != null && (!im2colGradientsAvailable() ||
          [Vol2col, Im2colConv3DBackpropInput].some(name => getKernel(name, backend) == null))) {
        return original.gradFunc(dy, saved, attrs);
      }
      const [x, filter] = saved as Tensor5D[];
      // tfjs's Conv3D attributes have no data format.
      return conv3dGradients(dy as Tensor, x, filter, {
        ...attrs, dataFormat: attrs.dataFormat ?? 'NDHWC'
      } as unknown as Conv3dSettings);
    }
  };
}

function swapGradients(): () => void {
  const swaps: Array<[string, (original: GradConfig | undefined) => GradConfig]> = [
    // DepthwiseConv2dNative keeps tfjs's gradient, which runs the BackpropInput stand-in:
    // tfjs-core's own suite requires its refusal of dilations (the package's op has them).
    [Conv2D, conv2dGradConfig], [Conv3D, conv3dGradConfig]
  ];
  const originals = swaps.map(([name, make]) => {
    const original = getGradient(name);
    registerGradient(make(original));
    return [name, original] as const;
  });
  const unbridge = bridgeFusedConv2dGradients();
  return () => {
    unbridge();
    for (const [name, original] of originals) {
      if (original != null) {
        registerGradient(original);
      } else {
        unregisterGradient(name);
      }
    }
  };
}

/**
 * Registers `config` in place of `original` (if any). The original's setupFunc comes along:
 * tfjs runs it when the backend starts, and a stand-in may hand calls to the original.
 */
function swapKernel(config: KernelConfig, original: KernelConfig | undefined): void {
  if (original != null) unregisterKernel(config.kernelName, config.backendName);
  registerKernel(original?.setupFunc == null ? config :
                 {...config, setupFunc: original.setupFunc});
}

/** Fails unless `kernels` is a list of the kernel names useIm2col can swap. */
function checkKernelNames(kernels: unknown): void {
  if (kernels === undefined) return;
  if (!Array.isArray(kernels) || kernels.some(k => !FAMILY_KERNELS.includes(k))) {
    throw new Error(`useIm2col: option 'kernels' must be an array of ` +
        `${FAMILY_KERNELS.map(k => `'${k}'`).join(', ')}, but got ${describe(kernels)}.`);
  }
}

/**
 * Switches tfjs's convolutions to im2col on the given backends and returns the function that
 * restores the original kernels and gradients exactly. Backends already switched are left as
 * they are (their restore belongs to the call that switched them); restoring twice does
 * nothing. Backends loaded after the call are not switched. A kernel the backend lacks (the
 * wasm backend has no DepthwiseConv2dNativeBackpropInput) is added, and removed on restore.
 */
export function useIm2col(options: UseIm2colOptions = {}): () => void {
  const drivers = [...state.drivers.keys()];
  const requested: string[] = options.backends ?? drivers;
  if (!Array.isArray(requested) || requested.some(b => !drivers.includes(b))) {
    const names = drivers.map(b => `'${b}'`);
    const listed = names.length < 2 ? names.join('') :
        `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}`;
    throw new Error(`useIm2col: option 'backends' must be an array of ${listed} (the backends ` +
        `whose tfjs-im2col drivers are loaded), but got ${describe(requested)}.`);
  }
  checkKernelNames(options.kernels);
  // A backend is loaded where its tfjs package registered its kernels.
  const loaded = (name: string) => standInsFor(name).length > 0 && getKernel(Conv2D, name) != null;
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
  /** What restore puts back: tfjs's kernel, or nothing where the backend had none. */
  const swapped: Array<{kernelName: string, backendName: string, original?: KernelConfig}> = [];
  for (const name of toSwitch) {
    const {driver} = state.drivers.get(name)!;
    const chosen = options.kernels ?? driver.switchedKernels;
    const standIns = standInsFor(name).filter(c => chosen.includes(c.kernelName));
    for (const config of [...standIns, ...driver.companionKernels ?? []]) {
      const original = getKernel(config.kernelName, name) as KernelConfig | undefined;
      swapped.push({kernelName: config.kernelName, backendName: name, original});
      if (original != null) state.replaced.set(`${name}/${config.kernelName}`, original);
      swapKernel(config, original);
    }
    switched.set(name, standIns.map(c => c.kernelName));
  }
  if (toSwitch.length > 0 && state.restoreGradients == null) {
    state.restoreGradients = swapGradients();
  }

  let restored = false;
  return () => {
    if (restored) return;
    restored = true;
    for (const {kernelName, backendName, original} of swapped) {
      unregisterKernel(kernelName, backendName);
      if (original != null) registerKernel(original);
      state.replaced.delete(`${backendName}/${kernelName}`);
    }
    for (const name of toSwitch) switched.delete(name);
    if (switched.size === 0 && state.restoreGradients != null) {
      state.restoreGradients();
      state.restoreGradients = null;
    }
  };
}

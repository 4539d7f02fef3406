/**
 * Keras's grouped convolution layers for tf.layers: `Conv2D` and `Conv1D` that honour
 * `groups`, as Keras's do (`Conv2D(groups=2)`), on this package's grouped kernels.
 *
 * tfjs-layers 4.22 ignores `groups`: a Keras model with a grouped layer builds a kernel of
 * the full input depth and fails to load ("Shape mismatch: [5,5,96,256] vs. [5,5,48,256]").
 * The classes here extend tfjs-layers' own `Conv2D` and `Conv1D` (which tfjs-layers does not
 * export: they are taken from tfjs's serialization registry, where tfjs-layers registers them
 * on import), build the kernel `[...kernelSize, inChannels / groups, filters]` and run it on
 * `fusedIm2colConv2d` / `im2colConv1d`. With `groups` 1 they are tfjs-layers' layers exactly.
 *
 * `registerIm2colLayers()` registers them under Keras's class names, replacing tfjs-layers'
 * registrations, so `tf.loadLayersModel` builds them for every `Conv2D` / `Conv1D` of a
 * model; it is opt-in and returns a function that puts tfjs-layers' classes back.
 *
 * This module imports `@tensorflow/tfjs-layers`; only the `tfjs-im2col/layers` entry loads it.
 */
import '@tensorflow/tfjs-layers';
import {add, reshape, serialization, Tensor, Tensor3D, Tensor4D, tidy} from '@tensorflow/tfjs-core';
import type {LayerVariable, Shape} from '@tensorflow/tfjs-layers';
import type {Conv1D, Conv2D, ConvLayerArgs} from '@tensorflow/tfjs-layers/dist/layers/convolutional';
import type {Kwargs} from '@tensorflow/tfjs-layers/dist/types';
import type {FusedActivation} from '../geometry';
import {fusedIm2colConv2d} from '../ops/fused_im2col_conv2d';
import {im2colConv1d} from '../ops/im2col_conv1d';

/** tfjs-layers' convolution arguments plus Keras's `groups`. */
export interface GroupedConvLayerArgs extends ConvLayerArgs {
  /**
   * Groups the input channels and the filters are split into (Keras's `groups`, default 1):
   * group g's filters see group g's `inChannels / groups` input channels only. The input's
   * channels and `filters` must both be divisible by it.
   */
  groups?: number;
}

/** Marks this package's layer classes (shared by every copy of the package). */
const GROUPED: unique symbol = Symbol.for('tfjs-im2col.groupedConvLayer');

type LayerClass = serialization.SerializableConstructor<serialization.Serializable>;

/** The class registered under `className` now, or undefined. */
function registeredClass(className: string): LayerClass | undefined {
  return serialization.SerializationMap.getMap().classNameMap[className]?.[0] as LayerClass | undefined;
}

/**
 * tfjs-layers' own class of that name: the registered one, or, where a copy of this package
 * has replaced it already, the tfjs-layers class below that copy's.
 */
function tfjsLayerClass<C>(className: 'Conv2D' | 'Conv1D'): C {
  let cls = registeredClass(className) as unknown as Function | undefined;
  while (cls != null && (cls as unknown as Record<symbol, unknown>)[GROUPED] === true) {
    cls = Object.getPrototypeOf(cls) as Function;
  }
  if (cls == null || typeof cls !== 'function') {
    throw new Error(`tfjs-im2col/layers: @tensorflow/tfjs-layers registered no '${className}' ` +
        'class; is @tensorflow/tfjs-layers (4.x) installed?');
  }
  return cls as unknown as C;
}

/** Keras's `groups`, checked: a positive integer (undefined and null mean 1). */
function checkGroups(layer: string, groups: unknown, filters: number): number {
  if (groups == null) return 1;
  if (typeof groups !== 'number' || !Number.isInteger(groups) || groups < 1) {
    throw new Error(`${layer}: 'groups' must be a positive integer, but got ` +
        `${typeof groups === 'number' ? groups : JSON.stringify(groups)}.`);
  }
  if (filters % groups !== 0) {
    throw new Error(`${layer}: the number of filters must be divisible by 'groups', but got ` +
        `filters = ${filters} and groups = ${groups}.`);
  }
  return groups;
}

/** The input's channels, which `groups` must divide. */
function groupedInputDepth(layer: string, inputShape: Shape, channelAxis: number,
                           groups: number): number {
  const inChannels = inputShape[channelAxis];
  if (inChannels == null) {
    throw new Error(`${layer}: the channel dimension of the input should be defined. Found ` +
        `${inChannels}.`);
  }
  if (inChannels % groups !== 0) {
    throw new Error(`${layer}: the input's channels must be divisible by 'groups', but got ` +
        `${inChannels} input channels (input shape ${JSON.stringify(inputShape)}) and ` +
        `groups = ${groups}.`);
  }
  return inChannels;
}

function exactlyOneTensor(inputs: Tensor | Tensor[]): Tensor {
  if (!Array.isArray(inputs)) return inputs;
  if (inputs.length !== 1) {
    throw new Error(`Expected exactly one input tensor, but got ${inputs.length}.`);
  }
  return inputs[0];
}

/** tfjs activations the fused epilogue applies exactly as tf.layers does. */
const FUSED_ACTIVATIONS: Record<string, FusedActivation> = {
  linear: 'linear', relu: 'relu', relu6: 'relu6', elu: 'elu', sigmoid: 'sigmoid'
};

const Conv2DBase = tfjsLayerClass<typeof Conv2D>('Conv2D');
const Conv1DBase = tfjsLayerClass<typeof Conv1D>('Conv1D');

/**
 * Keras's `Conv2D` with `groups`: tfjs-layers' `Conv2D`, whose kernel is
 * `[kernelH, kernelW, inChannels / groups, filters]` and which runs on `fusedIm2colConv2d`
 * (bias and the relu, relu6, elu and sigmoid activations in its epilogue) when `groups` > 1.
 */
export class GroupedConv2D extends Conv2DBase {
  /** @nocollapse */
  static override className = 'Conv2D';
  static readonly [GROUPED] = true;
  readonly groups: number;

  constructor(args: GroupedConvLayerArgs) {
    super(args);
    this.groups = checkGroups('Conv2D', args.groups, this.filters);
  }

  override build(inputShape: Shape | Shape[]): void {
    if (this.groups === 1) return super.build(inputShape);
    const shape = (Array.isArray(inputShape[0]) ? (inputShape as Shape[])[0] : inputShape) as Shape;
    const channelAxis = this.dataFormat === 'channelsFirst' ? 1 : shape.length - 1;
    const inChannels = groupedInputDepth('Conv2D', shape, channelAxis, this.groups);
    buildGrouped(this as unknown as GroupedLayerInternals, inChannels, channelAxis, this.rank);
  }

  override call(inputs: Tensor | Tensor[], kwargs: Kwargs): Tensor | Tensor[] {
    if (this.groups === 1) return super.call(inputs, kwargs);
    return tidy(() => {
      const x = exactlyOneTensor(inputs) as Tensor4D;
      const bias = this.bias == null ? undefined : this.bias.read();
      const fused = FUSED_ACTIVATIONS[this.activation.getClassName()];
      const y = fusedIm2colConv2d({
        x, filter: this.kernel.read() as Tensor4D, strides: this.strides as [number, number],
        pad: this.padding as 'valid' | 'same', dataFormat: this.dataFormat === 'channelsFirst' ? 'NCHW' : 'NHWC',
        dilations: this.dilationRate as [number, number], bias, activation: fused ?? 'linear'
      });
      return fused != null ? y : this.activation.apply(y);
    });
  }

  override getConfig(): serialization.ConfigDict {
    return {...super.getConfig(), groups: this.groups};
  }
}

/**
 * Keras's `Conv1D` with `groups`: tfjs-layers' `Conv1D`, whose kernel is
 * `[kernelW, inChannels / groups, filters]` and which runs on `im2colConv1d` when `groups` > 1.
 * It also takes `padding: 'causal'` (which tfjs-layers' own Conv1D refuses when called),
 * whatever `groups`, with Keras's output length.
 */
export class GroupedConv1D extends Conv1DBase {
  /** @nocollapse */
  static override className = 'Conv1D';
  static readonly [GROUPED] = true;
  readonly groups: number;

  constructor(args: GroupedConvLayerArgs) {
    super(args);
    this.groups = checkGroups('Conv1D', args.groups, this.filters);
  }

  override build(inputShape: Shape | Shape[]): void {
    if (this.groups === 1) return super.build(inputShape);
    const shape = (Array.isArray(inputShape[0]) ? (inputShape as Shape[])[0] : inputShape) as Shape;
    const channelAxis = this.dataFormat === 'channelsFirst' ? 1 : shape.length - 1;
    const inChannels = groupedInputDepth('Conv1D', shape, channelAxis, this.groups);
    buildGrouped(this as unknown as GroupedLayerInternals, inChannels, channelAxis, this.rank);
  }

  override call(inputs: Tensor | Tensor[], kwargs: Kwargs): Tensor | Tensor[] {
    if (this.groups === 1 && this.padding !== 'causal') return super.call(inputs, kwargs);
    return tidy(() => {
      const x = exactlyOneTensor(inputs) as Tensor3D;
      const channelsFirst = this.dataFormat === 'channelsFirst';
      let y: Tensor = im2colConv1d(x, this.kernel.read() as Tensor3D, this.strides[0], this.padding,
                                   channelsFirst ? 'NCW' : 'NWC', this.dilationRate[0]);
      if (this.bias != null) {
        y = add(y, channelsFirst ? reshape(this.bias.read(), [this.filters, 1]) : this.bias.read());
      }
      return this.activation.apply(y);
    });
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape | Shape[] {
    if (this.padding !== 'causal') return super.computeOutputShape(inputShape);
    // tfjs-layers sizes 'causal' as 'valid'; Keras: the input's length, divided by the stride.
    const shape = (Array.isArray(inputShape[0]) ? (inputShape as Shape[])[0] : inputShape) as Shape;
    const channelsFirst = this.dataFormat === 'channelsFirst';
    const width = shape[channelsFirst ? 2 : 1];
    const outWidth = width == null ? null : Math.ceil(width / this.strides[0]);
    return channelsFirst ? [shape[0], this.filters, outWidth] : [shape[0], outWidth, this.filters];
  }

  override getConfig(): serialization.ConfigDict {
    // tfjs-layers' Conv1D leaves dataFormat out; a grouped channelsFirst layer keeps it.
    const config: serialization.ConfigDict = {...super.getConfig(), groups: this.groups};
    if (this.groups > 1 && this.dataFormat === 'channelsFirst') config.dataFormat = this.dataFormat;
    return config;
  }
}

/** What `buildGrouped` sets on a layer (protected members of tfjs-layers' Conv). */
interface GroupedLayerInternals {
  kernelSize: number[];
  filters: number;
  groups: number;
  useBias: boolean;
  kernel: LayerVariable;
  bias: LayerVariable | null;
  kernelInitializer: unknown;
  kernelRegularizer: unknown;
  kernelConstraint: unknown;
  biasInitializer: unknown;
  biasRegularizer: unknown;
  biasConstraint: unknown;
  inputSpec: {ndim: number, axes: {[axis: number]: number}}[];
  built: boolean;
  addWeight(name: string, shape: Shape, dtype: null, initializer: unknown, regularizer: unknown,
            trainable: boolean, constraint: unknown): LayerVariable;
}

/** tfjs-layers' `Conv.build` with the kernel's input depth `inChannels / groups`. */
function buildGrouped(layer: GroupedLayerInternals, inChannels: number, channelAxis: number,
                      rank: number): void {
  const kernelShape = [...layer.kernelSize, inChannels / layer.groups, layer.filters];
  layer.kernel = layer.addWeight('kernel', kernelShape, null, layer.kernelInitializer,
                                 layer.kernelRegularizer, true, layer.kernelConstraint);
  if (layer.useBias) {
    layer.bias = layer.addWeight('bias', [layer.filters], null, layer.biasInitializer,
                                 layer.biasRegularizer, true, layer.biasConstraint);
  }
  layer.inputSpec = [{ndim: rank + 2, axes: {[channelAxis]: inChannels}}];
  layer.built = true;
}

/** A `Conv2D` layer honouring `groups` (`tf.layers.conv2d` plus `groups`). */
export function groupedConv2d(args: GroupedConvLayerArgs): GroupedConv2D {
  return new GroupedConv2D(args);
}

/** A `Conv1D` layer honouring `groups` (`tf.layers.conv1d` plus `groups`). */
export function groupedConv1d(args: GroupedConvLayerArgs): GroupedConv1D {
  return new GroupedConv1D(args);
}

/**
 * Registers `GroupedConv2D` and `GroupedConv1D` under Keras's class names `'Conv2D'` and
 * `'Conv1D'`, replacing tfjs-layers' registrations, so `tf.loadLayersModel` (and
 * `tf.models.modelFromJSON`, `fromConfig`) builds them for every Conv2D and Conv1D layer of a
 * model, grouped or not (with `groups` 1 they are tfjs-layers' layers). Opt-in; calling it
 * again is harmless. Returns a function that registers the classes found before the call
 * again (tfjs-layers' own).
 */
export function registerIm2colLayers(): () => void {
  const previous = [registeredClass('Conv2D'), registeredClass('Conv1D')];
  serialization.registerClass(GroupedConv2D);
  serialization.registerClass(GroupedConv1D);
  return () => {
    for (const cls of previous) if (cls != null) serialization.registerClass(cls);
  };
}

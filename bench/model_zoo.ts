/**
 * Whole tf.layers models for the model benchmark (bench/models.ts) and its test
 * (test/model_zoo.test.ts), built here: no downloads. Every weight is set from a seeded
 * PRNG (`seedWeights`), so two builds are the same model and stock tfjs and useIm2col see
 * identical weights. Each builder takes size options and returns the architecture with zero
 * weights; `buildModel(name)` builds and seeds it, `buildModel(name, 'tiny')` a small version
 * of the same architecture for tests.
 *
 *  - MobileNetV2 (alpha 1.0, 224x224x3): the Keras architecture, inverted residual blocks
 *    (1x1 expand by 6, 3x3 depthwise, 1x1 project, add where shapes match), batch norm,
 *    ReLU6 (`reLU({maxValue: 6})`), Conv_1 1280, global average pooling, dense 1000.
 *  - ResNet-50 (224x224x3): the Keras ResNet50 (v1), 7x7 stem, bottleneck blocks 3-4-6-3
 *    (64-128-256-512, x4 out), batch norm, global average pooling, dense 1000.
 *  - U-Net (256x256x3 -> 256x256x1): encoder conv blocks (two 3x3 conv + ReLU) of
 *    16-32-64-128 filters, each followed by 2x2 max pooling, a 256-filter bottleneck block,
 *    decoder of conv2dTranspose (2x2, stride 2) upsampling, concatenate with the skip, conv
 *    block; 1x1 conv out.
 *  - C3D (16x112x112x3 clips): the C3D layout (conv1a, pool 1x2x2, conv2a, pool, conv3a/b,
 *    pool, conv4a/b, pool, conv5a/b, pool, fc6, fc7, fc8) at a quarter of its widths,
 *    16-32-64-128-128 filters (3x3x3) and fc 512, 101 classes, so stock tfjs finishes.
 *  - TCN (1024 steps x 16 channels -> 1024 x 16): four residual blocks of two causal
 *    dilated conv1d (kernel 3, 64 filters, dilations 1, 2, 4, 8) + ReLU, a 1x1 conv on the
 *    first block's skip, residual add; 1x1 conv out. tf.layers conv1d has no 'causal'
 *    padding (tfjs-layers 4.22 throws NotImplementedError), so each conv is preceded by a
 *    left zero pad of dilation * (kernel - 1) steps (`CausalPadding1D`) and is 'valid'.
 *
 * The classifier heads give logits (no softmax), so output differences are not squashed.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

type Sym = tfl.SymbolicTensor;
type LayerFn = (x: Sym) => Sym;

const call = (layer: tfl.layers.Layer): LayerFn => x => layer.apply(x) as Sym;

/**
 * The builders' layers start at zero (cheap: tfjs's random initializers take seconds on
 * ResNet-50); `buildModel` then sets every weight with `seedWeights`.
 */
const ZEROS = {kernelInitializer: 'zeros', biasInitializer: 'zeros'} as const;

/** mulberry32: a small seeded PRNG, uniform in [0, 1). */
function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    let t = (state += 0x6d2b79f5);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `size` values uniform in [lo, hi) from `seed`. */
export function seededValues(size: number, seed: number, lo = -1, hi = 1): Float32Array {
  const next = mulberry32(seed);
  const out = new Float32Array(size);
  for (let i = 0; i < size; i++) out[i] = lo + (hi - lo) * next();
  return out;
}

/** A tensor of values uniform in [-scale, scale) from `seed`. */
export function seededTensor(shape: number[], seed: number, scale = 1): tf.Tensor {
  const size = shape.reduce((a, b) => a * b, 1);
  return tf.tensor(seededValues(size, seed, -scale, scale), shape);
}

/** The range a weight's values are drawn from: He-uniform kernels, near-identity batch norm. */
function weightRange(layer: tfl.layers.Layer, kind: string, shape: number[]): [number, number] {
  const size = shape.reduce((a, b) => a * b, 1);
  switch (kind) {
    case 'kernel':
    case 'depthwise_kernel': {
      const className = layer.getClassName();
      let fanIn: number;
      if (className === 'DepthwiseConv2D') {
        fanIn = shape[0] * shape[1];                                  // [kh, kw, inC, mult]
      } else if (className.endsWith('Transpose')) {
        // [...k, outC, inC]: each output sums inC * prod(k) / prod(strides) terms.
        const strides = layer.getConfig().strides as number | number[];
        const stride = Array.isArray(strides) ? strides.reduce((a, b) => a * b, 1) :
                                                strides ** (shape.length - 2);
        fanIn = size / shape[shape.length - 2] / stride;
      } else {
        fanIn = size / shape[shape.length - 1];                       // [...k, inC, outC]
      }
      const limit = Math.sqrt(6 / Math.max(1, fanIn));
      return [-limit, limit];
    }
    case 'bias': return [-0.02, 0.02];
    case 'gamma': return [0.9, 1.1];
    case 'beta': return [-0.05, 0.05];
    case 'moving_mean': return [-0.05, 0.05];
    case 'moving_variance': return [0.9, 1.1];
    default: throw new Error(`seedWeights: no rule for weight '${kind}' of ${layer.getClassName()}`);
  }
}

/**
 * Sets every weight of `model` (trainable or not, in layer order) from a PRNG seeded by
 * `seed` and the weight's position, so the same architecture and seed give the same model.
 */
export function seedWeights(model: tfl.LayersModel, seed: number): void {
  let index = 0;
  for (const layer of model.layers) {
    if (layer.weights.length === 0) continue;
    const values = layer.weights.map(w => {
      const shape = w.shape as number[];
      const kind = w.originalName.split('/').pop()!;
      const [lo, hi] = weightRange(layer, kind, shape);
      const size = shape.reduce((a, b) => a * b, 1);
      return tf.tensor(seededValues(size, Math.imul(seed, 0x9e3779b1) + index++, lo, hi), shape);
    });
    layer.setWeights(values);
    tf.dispose(values);
  }
}

/** Left zero padding of a [batch, steps, channels] sequence: what Keras's 'causal' does. */
export class CausalPadding1D extends tfl.layers.Layer {
  static className = 'CausalPadding1D';
  readonly padding: number;

  constructor(args: {padding: number, name?: string}) {
    super({name: args.name});
    this.padding = args.padding;
  }

  computeOutputShape(shape: tfl.Shape | tfl.Shape[]): tfl.Shape {
    const s = (Array.isArray(shape[0]) ? shape[0] : shape) as tfl.Shape;
    return [s[0], s[1] == null ? null : s[1] + this.padding, s[2]];
  }

  call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const x = Array.isArray(inputs) ? inputs[0] : inputs;
    return tf.pad(x, [[0, 0], [this.padding, 0], [0, 0]]);
  }

  getConfig(): tf.serialization.ConfigDict {
    return {...super.getConfig(), padding: this.padding};
  }
}

// ---------------------------------------------------------------- MobileNetV2

export interface MobileNetV2Options {
  inputSize?: number;   // 224
  alpha?: number;       // 1.0
  classes?: number;     // 1000
}

/** Keras's _make_divisible. */
function makeDivisible(v: number, divisor = 8): number {
  let out = Math.max(divisor, Math.floor((v + divisor / 2) / divisor) * divisor);
  if (out < 0.9 * v) out += divisor;
  return out;
}

export function mobileNetV2(options: MobileNetV2Options = {}): tfl.LayersModel {
  const {inputSize = 224, alpha = 1, classes = 1000} = options;
  const bn = (name: string) =>
      call(tfl.layers.batchNormalization({epsilon: 1e-3, momentum: 0.999, name}));
  const relu6 = (name: string) => call(tfl.layers.reLU({maxValue: 6, name}));
  const input = tfl.input({shape: [inputSize, inputSize, 3]});
  let x = call(tfl.layers.conv2d({...ZEROS, filters: makeDivisible(32 * alpha), kernelSize: 3, strides: 2,
                                  padding: 'same', useBias: false, name: 'Conv1'}))(input);
  x = relu6('Conv1_relu')(bn('bn_Conv1')(x));
  // [filters, stride, expansion] of Keras's block_id 0..16.
  const blocks: [number, number, number][] = [
    [16, 1, 1], [24, 2, 6], [24, 1, 6], [32, 2, 6], [32, 1, 6], [32, 1, 6], [64, 2, 6],
    [64, 1, 6], [64, 1, 6], [64, 1, 6], [96, 1, 6], [96, 1, 6], [96, 1, 6], [160, 2, 6],
    [160, 1, 6], [160, 1, 6], [320, 1, 6]];
  blocks.forEach(([filters, stride, expansion], id) => {
    const inChannels = x.shape[3] as number;
    const outChannels = makeDivisible(Math.floor(filters * alpha));
    const prefix = id === 0 ? 'expanded_conv_' : `block_${id}_`;
    const blockInput = x;
    if (id > 0) {
      x = call(tfl.layers.conv2d({...ZEROS, filters: expansion * inChannels, kernelSize: 1, padding: 'same',
                                  useBias: false, name: `${prefix}expand`}))(x);
      x = relu6(`${prefix}expand_relu`)(bn(`${prefix}expand_BN`)(x));
    }
    if (stride === 2) {
      // Keras's correct_pad for a 3x3 kernel.
      const pad = (size: number): [number, number] => [size % 2, 1];
      x = call(tfl.layers.zeroPadding2d({
        padding: [pad(x.shape[1] as number), pad(x.shape[2] as number)], name: `${prefix}pad`}))(x);
    }
    x = call(tfl.layers.depthwiseConv2d({depthwiseInitializer: 'zeros', kernelSize: 3, strides: stride,
                                         useBias: false, padding: stride === 1 ? 'same' : 'valid',
                                         name: `${prefix}depthwise`}))(x);
    x = relu6(`${prefix}depthwise_relu`)(bn(`${prefix}depthwise_BN`)(x));
    x = call(tfl.layers.conv2d({...ZEROS, filters: outChannels, kernelSize: 1, padding: 'same',
                                useBias: false, name: `${prefix}project`}))(x);
    x = bn(`${prefix}project_BN`)(x);
    if (inChannels === outChannels && stride === 1) {
      x = tfl.layers.add({name: `${prefix}add`}).apply([blockInput, x]) as Sym;
    }
  });
  const lastFilters = alpha > 1 ? makeDivisible(1280 * alpha) : 1280;
  x = call(tfl.layers.conv2d({...ZEROS, filters: lastFilters, kernelSize: 1, useBias: false,
                              name: 'Conv_1'}))(x);
  x = relu6('out_relu')(bn('Conv_1_bn')(x));
  x = call(tfl.layers.globalAveragePooling2d({name: 'global_average_pooling2d'}))(x);
  x = call(tfl.layers.dense({...ZEROS, units: classes, name: 'predictions'}))(x);
  return tfl.model({inputs: input, outputs: x, name: `mobilenetv2_${alpha}_${inputSize}`});
}

// ---------------------------------------------------------------- ResNet-50

export interface ResNet50Options {
  inputSize?: number;   // 224
  width?: number;       // 64: the first stack's bottleneck filters (64, 128, 256, 512 from it)
  blocks?: number[];    // [3, 4, 6, 3]
  classes?: number;     // 1000
}

export function resNet50(options: ResNet50Options = {}): tfl.LayersModel {
  const {inputSize = 224, width = 64, blocks = [3, 4, 6, 3], classes = 1000} = options;
  const bn = (name: string) => call(tfl.layers.batchNormalization({epsilon: 1.001e-5, name}));
  const relu = (name: string) => call(tfl.layers.activation({activation: 'relu', name}));
  const conv = (filters: number, kernelSize: number, strides: number, name: string,
                padding: 'same' | 'valid' = 'valid') =>
      call(tfl.layers.conv2d({...ZEROS, filters, kernelSize, strides, padding, name}));
  const block = (input: Sym, filters: number, stride: number, convShortcut: boolean,
                 name: string): Sym => {
    const shortcut = convShortcut ?
        bn(`${name}_0_bn`)(conv(4 * filters, 1, stride, `${name}_0_conv`)(input)) : input;
    let x = conv(filters, 1, stride, `${name}_1_conv`)(input);
    x = relu(`${name}_1_relu`)(bn(`${name}_1_bn`)(x));
    x = relu(`${name}_2_relu`)(bn(`${name}_2_bn`)(conv(filters, 3, 1, `${name}_2_conv`, 'same')(x)));
    x = bn(`${name}_3_bn`)(conv(4 * filters, 1, 1, `${name}_3_conv`)(x));
    return relu(`${name}_out`)(tfl.layers.add({name: `${name}_add`}).apply([shortcut, x]) as Sym);
  };
  const input = tfl.input({shape: [inputSize, inputSize, 3]});
  let x = call(tfl.layers.zeroPadding2d({padding: 3, name: 'conv1_pad'}))(input);
  x = relu('conv1_relu')(bn('conv1_bn')(conv(width, 7, 2, 'conv1_conv')(x)));
  x = call(tfl.layers.zeroPadding2d({padding: 1, name: 'pool1_pad'}))(x);
  x = call(tfl.layers.maxPooling2d({poolSize: 3, strides: 2, name: 'pool1_pool'}))(x);
  blocks.forEach((count, stack) => {
    for (let i = 1; i <= count; i++) {
      const stride = i === 1 && stack > 0 ? 2 : 1;
      x = block(x, width * 2 ** stack, stride, i === 1, `conv${stack + 2}_block${i}`);
    }
  });
  x = call(tfl.layers.globalAveragePooling2d({name: 'avg_pool'}))(x);
  x = call(tfl.layers.dense({...ZEROS, units: classes, name: 'predictions'}))(x);
  return tfl.model({inputs: input, outputs: x, name: `resnet50_${width}_${inputSize}`});
}

// ---------------------------------------------------------------- U-Net

export interface UNetOptions {
  inputSize?: number;    // 256
  filters?: number[];    // [16, 32, 64, 128]: encoder levels; the bottleneck has twice the last
  inChannels?: number;   // 3
  outChannels?: number;  // 1
}

export function uNet(options: UNetOptions = {}): tfl.LayersModel {
  const {inputSize = 256, filters = [16, 32, 64, 128], inChannels = 3, outChannels = 1} = options;
  const convBlock = (x: Sym, f: number, name: string): Sym => {
    for (const i of [1, 2]) {
      x = call(tfl.layers.conv2d({...ZEROS, filters: f, kernelSize: 3, padding: 'same',
                                  activation: 'relu', name: `${name}_conv${i}`}))(x);
    }
    return x;
  };
  const input = tfl.input({shape: [inputSize, inputSize, inChannels]});
  let x: Sym = input;
  const skips: Sym[] = [];
  filters.forEach((f, level) => {
    const features = convBlock(x, f, `enc${level + 1}`);
    skips.push(features);
    x = call(tfl.layers.maxPooling2d({poolSize: 2, name: `enc${level + 1}_pool`}))(features);
  });
  x = convBlock(x, 2 * filters[filters.length - 1], 'bottleneck');
  for (let level = filters.length - 1; level >= 0; level--) {
    x = call(tfl.layers.conv2dTranspose({...ZEROS, filters: filters[level], kernelSize: 2, strides: 2,
                                         padding: 'same', name: `dec${level + 1}_up`}))(x);
    x = tfl.layers.concatenate({name: `dec${level + 1}_concat`}).apply([x, skips[level]]) as Sym;
    x = convBlock(x, filters[level], `dec${level + 1}`);
  }
  x = call(tfl.layers.conv2d({...ZEROS, filters: outChannels, kernelSize: 1, name: 'out'}))(x);
  return tfl.model({inputs: input, outputs: x, name: `unet_${filters[0]}_${inputSize}`});
}

// ---------------------------------------------------------------- C3D

export interface C3DOptions {
  frames?: number;     // 16
  size?: number;       // 112
  widths?: number[];   // [16, 32, 64, 128, 128]: conv1..conv5 (C3D's 64, 128, 256, 512, 512 / 4)
  fc?: number;         // 512 (C3D's 4096 / 8)
  classes?: number;    // 101
}

export function c3d(options: C3DOptions = {}): tfl.LayersModel {
  const {frames = 16, size = 112, widths = [16, 32, 64, 128, 128], fc = 512, classes = 101} = options;
  const conv = (filters: number, name: string) =>
      call(tfl.layers.conv3d({...ZEROS, filters, kernelSize: 3, padding: 'same', activation: 'relu',
                              name}));
  const pool = (poolSize: [number, number, number], name: string, padding: 'same' | 'valid' = 'valid') =>
      call(tfl.layers.maxPooling3d({poolSize, strides: poolSize, padding, name}));
  const input = tfl.input({shape: [frames, size, size, 3]});
  let x = pool([1, 2, 2], 'pool1')(conv(widths[0], 'conv1a')(input));
  x = pool([2, 2, 2], 'pool2')(conv(widths[1], 'conv2a')(x));
  x = pool([2, 2, 2], 'pool3')(conv(widths[2], 'conv3b')(conv(widths[2], 'conv3a')(x)));
  x = pool([2, 2, 2], 'pool4')(conv(widths[3], 'conv4b')(conv(widths[3], 'conv4a')(x)));
  x = pool([2, 2, 2], 'pool5', 'same')(conv(widths[4], 'conv5b')(conv(widths[4], 'conv5a')(x)));
  x = call(tfl.layers.flatten({name: 'flatten'}))(x);
  x = call(tfl.layers.dense({...ZEROS, units: fc, activation: 'relu', name: 'fc6'}))(x);
  x = call(tfl.layers.dense({...ZEROS, units: fc, activation: 'relu', name: 'fc7'}))(x);
  x = call(tfl.layers.dense({...ZEROS, units: classes, name: 'fc8'}))(x);
  return tfl.model({inputs: input, outputs: x, name: `c3d_${widths[0]}_${frames}x${size}`});
}

// ---------------------------------------------------------------- TCN

export interface TcnOptions {
  length?: number;       // 1024 time steps
  inChannels?: number;   // 16
  channels?: number;     // 64
  kernelSize?: number;   // 3
  dilations?: number[];  // [1, 2, 4, 8]
  outChannels?: number;  // 16
}

export function tcn(options: TcnOptions = {}): tfl.LayersModel {
  const {length = 1024, inChannels = 16, channels = 64, kernelSize = 3, dilations = [1, 2, 4, 8],
         outChannels = 16} = options;
  const causalConv = (x: Sym, dilation: number, name: string): Sym => {
    x = call(new CausalPadding1D({padding: dilation * (kernelSize - 1), name: `${name}_pad`}))(x);
    return call(tfl.layers.conv1d({...ZEROS, filters: channels, kernelSize, dilationRate: dilation,
                                   padding: 'valid', activation: 'relu', name}))(x);
  };
  const input = tfl.input({shape: [length, inChannels]});
  let x: Sym = input;
  dilations.forEach((dilation, i) => {
    const name = `block${i + 1}`;
    const y = causalConv(causalConv(x, dilation, `${name}_conv1`), dilation, `${name}_conv2`);
    const skip = x.shape[2] === channels ? x :
        call(tfl.layers.conv1d({...ZEROS, filters: channels, kernelSize: 1, name: `${name}_skip`}))(x);
    x = tfl.layers.add({name: `${name}_add`}).apply([skip, y]) as Sym;
    x = call(tfl.layers.activation({activation: 'relu', name: `${name}_relu`}))(x);
  });
  x = call(tfl.layers.conv1d({...ZEROS, filters: outChannels, kernelSize: 1, name: 'out'}))(x);
  return tfl.model({inputs: input, outputs: x, name: `tcn_${channels}_${length}`});
}

// ---------------------------------------------------------------- the zoo

export const MODEL_NAMES = ['mobilenetv2', 'resnet50', 'unet', 'c3d', 'tcn'] as const;
export type ModelName = typeof MODEL_NAMES[number];
export type ModelScale = 'full' | 'tiny';

interface ZooEntry {
  full: () => tfl.LayersModel;
  tiny: () => tfl.LayersModel;
  seed: number;
}

const ZOO: Record<ModelName, ZooEntry> = {
  mobilenetv2: {seed: 1, full: () => mobileNetV2(),
                tiny: () => mobileNetV2({inputSize: 32, alpha: 0.35, classes: 10})},
  resnet50: {seed: 2, full: () => resNet50(),
             tiny: () => resNet50({inputSize: 32, width: 4, classes: 10})},
  unet: {seed: 3, full: () => uNet(),
         tiny: () => uNet({inputSize: 32, filters: [4, 8, 8, 16]})},
  c3d: {seed: 4, full: () => c3d(),
        tiny: () => c3d({frames: 8, size: 32, widths: [4, 4, 8, 8, 8], fc: 16, classes: 5})},
  tcn: {seed: 5, full: () => tcn(),
        tiny: () => tcn({length: 64, inChannels: 4, channels: 8, outChannels: 4})},
};

export function isModelName(name: string): name is ModelName {
  return (MODEL_NAMES as readonly string[]).includes(name);
}

/** Builds the named model at `scale` with its seeded weights (not compiled). */
export function buildModel(name: ModelName, scale: ModelScale = 'full'): tfl.LayersModel {
  const entry = ZOO[name];
  if (entry == null) throw new Error(`unknown model '${name}'; known: ${MODEL_NAMES.join(', ')}`);
  const model = entry[scale]();
  seedWeights(model, entry.seed);
  return model;
}

/** The model's input shape for a batch of `batch`. */
export function inputShapeOf(model: tfl.LayersModel, batch = 1): number[] {
  return [batch, ...(model.inputs[0].shape.slice(1) as number[])];
}

/** The model's output shape for a batch of `batch`. */
export function outputShapeOf(model: tfl.LayersModel, batch = 1): number[] {
  return [batch, ...(model.outputs[0].shape.slice(1) as number[])];
}

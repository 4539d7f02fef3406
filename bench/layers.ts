/** The fixed layer suite every benchmark runs (issue: Speed). NHWC, batch 1 unless stated. */
/** Which op a layer runs; the family a layer's speedups are averaged in. */
export type LayerKind = 'conv2d' | 'conv1d' | 'depthwise' | 'grouped' | 'transpose' | 'conv3d';

export interface BenchLayer {
  name: string;
  kind: LayerKind;
  /**
   * conv2d/depthwise/grouped: [batch, height, width, inChannels]; conv1d: [batch, width,
   * inChannels]; transpose: its input [batch, height, width, inChannels] (the forward
   * convolution's output); conv3d: [batch, depth, height, width, inChannels].
   */
  input: number[];
  /**
   * conv2d: [kh, kw, inC, outC]; conv1d: [kw, inC, outC]; depthwise: [kh, kw, inC,
   * multiplier]; grouped: [kh, kw, inC / groups, outC]; transpose: [kh, kw, outC, inC];
   * conv3d: [kd, kh, kw, inC, outC].
   */
  filter: number[];
  stride: number;
  dilation: number;
  pad: 'same' | 'valid';
  /** transpose: the output's shape. */
  outputShape?: number[];
}

export const BENCH_LAYERS: BenchLayer[] = [
  {name: 'article-2', kind: 'conv2d', input: [1, 4, 4, 3], filter: [2, 2, 3, 2], stride: 1, dilation: 1, pad: 'valid'},
  {name: 'resnet-stem', kind: 'conv2d', input: [1, 224, 224, 3], filter: [7, 7, 3, 64], stride: 2, dilation: 1, pad: 'same'},
  {name: 'resnet-3x3', kind: 'conv2d', input: [1, 56, 56, 64], filter: [3, 3, 64, 64], stride: 1, dilation: 1, pad: 'same'},
  {name: 'resnet-deep', kind: 'conv2d', input: [1, 14, 14, 256], filter: [3, 3, 256, 256], stride: 1, dilation: 1, pad: 'same'},
  {name: 'pointwise', kind: 'conv2d', input: [1, 28, 28, 128], filter: [1, 1, 128, 256], stride: 1, dilation: 1, pad: 'valid'},
  {name: 'dilated', kind: 'conv2d', input: [1, 64, 64, 32], filter: [3, 3, 32, 32], stride: 1, dilation: 2, pad: 'same'},
  {name: 'strided', kind: 'conv2d', input: [1, 112, 112, 64], filter: [3, 3, 64, 128], stride: 2, dilation: 1, pad: 'same'},
  {name: 'batch-8', kind: 'conv2d', input: [8, 32, 32, 32], filter: [3, 3, 32, 64], stride: 1, dilation: 1, pad: 'same'},
  {name: 'large-image', kind: 'conv2d', input: [1, 512, 512, 16], filter: [3, 3, 16, 16], stride: 1, dilation: 1, pad: 'same'},
  {name: 'conv1d-audio', kind: 'conv1d', input: [1, 16000, 1], filter: [80, 1, 64], stride: 4, dilation: 1, pad: 'same'},
  {name: 'conv1d-seq', kind: 'conv1d', input: [4, 1024, 128], filter: [3, 128, 128], stride: 1, dilation: 1, pad: 'same'},
  {name: 'mobilenet-dw', kind: 'depthwise', input: [1, 112, 112, 32], filter: [3, 3, 32, 1], stride: 1, dilation: 1, pad: 'same'},
  {name: 'mobilenet-dw-s2', kind: 'depthwise', input: [1, 112, 112, 96], filter: [3, 3, 96, 1], stride: 2, dilation: 1, pad: 'same'},
  {name: 'resnext-grouped', kind: 'grouped', input: [1, 56, 56, 128], filter: [3, 3, 4, 128], stride: 1, dilation: 1, pad: 'same'},
  {name: 'unet-up', kind: 'transpose', input: [1, 64, 64, 64], filter: [3, 3, 32, 64], stride: 2, dilation: 1, pad: 'same', outputShape: [1, 128, 128, 32]},
  {name: 'gan-up', kind: 'transpose', input: [1, 8, 8, 256], filter: [5, 5, 128, 256], stride: 2, dilation: 1, pad: 'same', outputShape: [1, 16, 16, 128]},
  {name: 'c3d', kind: 'conv3d', input: [1, 16, 56, 56, 64], filter: [3, 3, 3, 64, 64], stride: 1, dilation: 1, pad: 'same'},
  {name: 'medical-3d', kind: 'conv3d', input: [1, 32, 64, 64, 16], filter: [3, 3, 3, 16, 32], stride: 1, dilation: 1, pad: 'same'},
];

/** The family a layer's speedup is averaged in (the targets are per family). */
export function layerFamily(layer: BenchLayer): string {
  return layer.kind === 'conv1d' ? 'conv2d' : layer.kind;
}

type TfLike = typeof import('@tensorflow/tfjs-core');
type LibLike = typeof import('../src');
type Tensor = import('@tensorflow/tfjs-core').Tensor;

/**
 * The layer's op on this package (`ours`) and tfjs's own (`reference`): for grouped layers,
 * which tfjs cannot run, per-group tf.conv2d on channel slices, concatenated. Types only,
 * so the page can bundle it (bench/webgl.ts).
 */
export function layerOps(tf: TfLike, lib: LibLike, layer: BenchLayer, x: Tensor, filter: Tensor):
    {ours: () => Tensor, reference: () => Tensor} {
  const {stride, pad, dilation} = layer;
  const [x4, f4] = [x as never, filter as never];
  switch (layer.kind) {
    case 'conv2d':
      return {ours: () => lib.im2colConv2d(x4, f4, stride, pad, 'NHWC', dilation),
              reference: () => tf.conv2d(x4, f4, stride, pad, 'NHWC', dilation)};
    case 'conv1d':
      return {ours: () => lib.im2colConv1d(x4, f4, stride, pad, 'NWC', dilation),
              reference: () => tf.conv1d(x4, f4, stride, pad, 'NWC', dilation)};
    case 'depthwise':
      return {ours: () => lib.im2colDepthwiseConv2d(x4, f4, stride, pad, 'NHWC', dilation),
              reference: () => tf.depthwiseConv2d(x4, f4, stride, pad, 'NHWC', dilation)};
    case 'grouped': {
      const groups = layer.input[3] / layer.filter[2];
      return {
        ours: () => lib.im2colConv2d(x4, f4, stride, pad, 'NHWC', dilation),
        reference: () => tf.tidy(() => {
          const xs = tf.split(x, groups, 3), fs = tf.split(filter, groups, 3);
          return tf.concat(xs.map((xi, i) => tf.conv2d(xi as never, fs[i] as never, stride, pad,
                                                       'NHWC', dilation)), 3);
        })
      };
    }
    case 'transpose': {
      const outputShape = layer.outputShape as [number, number, number, number];
      return {ours: () => lib.im2colConv2dTranspose(x4, f4, outputShape, stride, pad),
              reference: () => tf.conv2dTranspose(x4, f4, outputShape, stride, pad)};
    }
    case 'conv3d':
      return {ours: () => lib.im2colConv3d(x4, f4, stride, pad, 'NDHWC', dilation),
              reference: () => tf.conv3d(x4, f4, stride, pad, 'NDHWC', dilation)};
  }
}

/** Multiply-adds × 2 of one run of the layer. */
export function layerFlops(layer: BenchLayer): number {
  const [batch] = layer.input;
  if (layer.kind === 'transpose') {
    // The forward convolution's multiply-adds: every input value times a filter tap row.
    const [kh, kw, outC, inC] = layer.filter;
    return 2 * layer.input.slice(0, 3).reduce((a, b) => a * b, 1) * kh * kw * outC * inC;
  }
  const spatialIn = layer.input.slice(1, -1);
  const kernel = layer.filter.slice(0, -2);
  let [inC, outC] = layer.filter.slice(-2);
  // A depthwise layer: each output channel reads one input channel.
  if (layer.kind === 'depthwise') [inC, outC] = [1, inC * outC];
  const outPositions = spatialIn.map(size => layer.pad === 'same' ? Math.ceil(size / layer.stride) :
      Math.ceil((size - (kernel[0] - 1) * layer.dilation) / layer.stride))
      .reduce((a, b) => a * b, 1);
  const taps = kernel.reduce((a, b) => a * b, 1);
  return 2 * batch * outPositions * taps * inC * outC;
}

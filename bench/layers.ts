/** The fixed layer suite every benchmark runs (issue: Speed). NHWC, batch 1 unless stated. */
export interface BenchLayer {
  name: string;
  kind: 'conv2d' | 'conv1d';
  /** conv2d: [batch, height, width, inChannels]; conv1d: [batch, width, inChannels]. */
  input: number[];
  /** conv2d: [kh, kw, inC, outC]; conv1d: [kw, inC, outC]. */
  filter: number[];
  stride: number;
  dilation: number;
  pad: 'same' | 'valid';
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
];

/** Multiply-adds × 2 of one run of the layer. */
export function layerFlops(layer: BenchLayer): number {
  const [batch] = layer.input;
  const spatialIn = layer.input.slice(1, -1);
  const kernel = layer.filter.slice(0, -2);
  const [inC, outC] = layer.filter.slice(-2);
  const outPositions = spatialIn.map(size => layer.pad === 'same' ? Math.ceil(size / layer.stride) :
      Math.ceil((size - (kernel[0] - 1) * layer.dilation) / layer.stride))
      .reduce((a, b) => a * b, 1);
  const taps = kernel.reduce((a, b) => a * b, 1);
  return 2 * batch * outPositions * taps * inC * outC;
}

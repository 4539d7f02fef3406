/**
 * `tfjs-im2col/layers`: the main entry (the API, the cpu, wasm and webgl kernels) plus
 * Keras's grouped `Conv2D` / `Conv1D` layers for tf.layers and `registerIm2colLayers()`.
 * The only entry that loads `@tensorflow/tfjs-layers` (an optional peer dependency).
 */
export * from '../index';
export {GroupedConv1D, GroupedConv2D, groupedConv1d, groupedConv2d, registerIm2colLayers} from '../layers/grouped_conv';
export type {GroupedConvLayerArgs} from '../layers/grouped_conv';

import {KernelConfig, registerKernel} from '@tensorflow/tfjs-core';
import {im2colConfig} from './kernels/Im2col';
import {im2colConv1DConfig} from './kernels/Im2colConv1D';
import {im2colConv2DConfig} from './kernels/Im2colConv2D';

/** Every kernel this package provides for tfjs's webgl backend. */
export const webglKernelConfigs: KernelConfig[] = [
  im2colConv2DConfig,
  im2colConv1DConfig,
  im2colConfig,
];

for (const config of webglKernelConfigs) registerKernel(config);

import {Conv2D, FusedConv2D, KernelConfig, registerKernel} from '@tensorflow/tfjs-core';
import {tfjsConv2dGeometry} from '../geometry';
import {recordFusedConv2dCall} from '../gradients/fused_conv2d_capture';
import {registerStandIns} from '../stand_ins';
import {col2imConfig} from './kernels/Col2im';
import {cpuFusedConv2dKernel, fusedIm2colConv2DConfig} from './kernels/FusedIm2colConv2D';
import {im2colConfig} from './kernels/Im2col';
import {im2colConv1DConfig} from './kernels/Im2colConv1D';
import {cpuConv2dKernel, im2colConv2DConfig} from './kernels/Im2colConv2D';

/** Every kernel this package provides for tfjs's cpu backend. */
export const cpuKernelConfigs: KernelConfig[] = [
  im2colConv2DConfig,
  fusedIm2colConv2DConfig,
  im2colConv1DConfig,
  im2colConfig,
  col2imConfig,
];

for (const config of cpuKernelConfigs) registerKernel(config);

/** What useIm2col swaps in for the cpu backend's own convolutions. */
registerStandIns('cpu', [
  {kernelName: Conv2D, backendName: 'cpu', kernelFunc: cpuConv2dKernel(Conv2D, tfjsConv2dGeometry)},
  {
    kernelName: FusedConv2D,
    backendName: 'cpu',
    kernelFunc: cpuFusedConv2dKernel(FusedConv2D, tfjsConv2dGeometry, recordFusedConv2dCall)
  },
]);

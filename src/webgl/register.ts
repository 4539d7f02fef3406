import {Conv2D, FusedConv2D, KernelConfig, registerKernel} from '@tensorflow/tfjs-core';
import {tfjsConv2dGeometry} from '../geometry';
import {recordFusedConv2dCall} from '../gradients/fused_conv2d_capture';
import {registerStandIns} from '../stand_ins';
import {col2imConfig} from './kernels/Col2im';
import {fusedIm2colConv2DConfig, webglFusedConv2dKernel} from './kernels/FusedIm2colConv2D';
import {im2colConfig} from './kernels/Im2col';
import {im2colConv1DConfig} from './kernels/Im2colConv1D';
import {im2colConv2DConfig, webglConv2dKernel} from './kernels/Im2colConv2D';

/** Every kernel this package provides for tfjs's webgl backend. */
export const webglKernelConfigs: KernelConfig[] = [
  im2colConv2DConfig,
  fusedIm2colConv2DConfig,
  im2colConv1DConfig,
  im2colConfig,
  col2imConfig,
];

for (const config of webglKernelConfigs) registerKernel(config);

/** What useIm2col swaps in for the webgl backend's own convolutions. */
registerStandIns('webgl', [
  {kernelName: Conv2D, backendName: 'webgl', kernelFunc: webglConv2dKernel(Conv2D, tfjsConv2dGeometry)},
  {
    kernelName: FusedConv2D,
    backendName: 'webgl',
    kernelFunc: webglFusedConv2dKernel(FusedConv2D, tfjsConv2dGeometry, recordFusedConv2dCall)
  },
]);

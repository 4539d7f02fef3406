/**
 * The kernel factory: every kernel this package registers for a backend, and every stand-in
 * useIm2col swaps in for that backend's own kernels, built from the backend's driver.
 */
import {Conv2D, Conv2DBackpropFilter, Conv2DBackpropInput, Conv3D, Conv3DBackpropInputV2, DepthwiseConv2dNative, DepthwiseConv2dNativeBackpropFilter, DepthwiseConv2dNativeBackpropInput, FusedConv2D, FusedDepthwiseConv2D, KernelConfig} from '@tensorflow/tfjs-core';
import type {BackendDriver} from '../engine/driver';
import {checkedConv2dGeometry, checkedDepthwiseGeometry, conv2dGeometry, tfjsConv2dGeometry, tfjsDepthwiseGeometry} from '../geometry';
import {FusedIm2colConv2D, FusedIm2colDepthwiseConv2D, Im2colConv2D, Im2colConv2DBackpropInput, Im2colConv3D, Im2colConv3DBackpropInput, Im2colDepthwiseConv2D} from '../kernel_names';
import {col2imKernel} from './col2im';
import {conv1dKernel} from './conv1d';
import {conv2dKernel} from './conv2d';
import {conv2dBackpropFilterKernel} from './conv2d_backprop_filter';
import {conv2dTransposeKernel} from './conv2d_transpose';
import {conv3dBackpropFilterKernel, conv3dKernel, conv3dTransposeKernel, vol2colKernel} from './conv3d';
import {fusedConv2dKernel} from './fused_conv2d';
import {im2colKernel} from './im2col';

/** This package's own kernels on the driver's backend. */
export function im2colKernelConfigs(driver: BackendDriver): KernelConfig[] {
  return [
    conv2dKernel(driver, Im2colConv2D, checkedConv2dGeometry),
    fusedConv2dKernel(driver, FusedIm2colConv2D, checkedConv2dGeometry),
    conv1dKernel(driver),
    conv2dKernel(driver, Im2colDepthwiseConv2D, checkedDepthwiseGeometry),
    fusedConv2dKernel(driver, FusedIm2colDepthwiseConv2D, checkedDepthwiseGeometry),
    conv2dTransposeKernel(driver, Im2colConv2DBackpropInput, conv2dGeometry),
    conv3dKernel(driver, Im2colConv3D),
    conv3dTransposeKernel(driver, Im2colConv3DBackpropInput),
    im2colKernel(driver),
    col2imKernel(driver),
    vol2colKernel(driver),
    ...(driver.conv3dFilterGradient == null ? [] : [conv3dBackpropFilterKernel(driver)]),
  ];
}

/**
 * The kernels useIm2col can swap in for the backend's own (tfjs's geometry, tfjs's names):
 * the convolution family and the input and filter gradients tfjs's registered gradients run
 * (the filter gradients where the driver has them).
 */
export function standInKernelConfigs(driver: BackendDriver): KernelConfig[] {
  return [
    conv2dKernel(driver, Conv2D, tfjsConv2dGeometry, true),
    fusedConv2dKernel(driver, FusedConv2D, tfjsConv2dGeometry, true),
    conv2dKernel(driver, DepthwiseConv2dNative, tfjsDepthwiseGeometry, true),
    fusedConv2dKernel(driver, FusedDepthwiseConv2D, tfjsDepthwiseGeometry, true),
    conv2dTransposeKernel(driver, Conv2DBackpropInput, tfjsConv2dGeometry, true),
    conv2dTransposeKernel(driver, DepthwiseConv2dNativeBackpropInput, tfjsDepthwiseGeometry, true),
    conv3dKernel(driver, Conv3D, true),
    conv3dTransposeKernel(driver, Conv3DBackpropInputV2, true),
    ...(driver.convFilterGradient == null ? [] : [
      conv2dBackpropFilterKernel(driver, Conv2DBackpropFilter, tfjsConv2dGeometry),
      conv2dBackpropFilterKernel(driver, DepthwiseConv2dNativeBackpropFilter,
                                 tfjsDepthwiseGeometry),
    ]),
  ];
}

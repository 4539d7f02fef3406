/**
 * The kernel factory: every kernel this package registers for a backend, and every stand-in
 * useIm2col swaps in for that backend's own kernels, built from the backend's driver.
 */
import {Conv2D, FusedConv2D, KernelConfig} from '@tensorflow/tfjs-core';
import type {BackendDriver} from '../engine/driver';
import {checkedConv2dGeometry, tfjsConv2dGeometry} from '../geometry';
import {FusedIm2colConv2D, Im2colConv2D} from '../kernel_names';
import {col2imKernel} from './col2im';
import {conv1dKernel} from './conv1d';
import {conv2dKernel} from './conv2d';
import {fusedConv2dKernel} from './fused_conv2d';
import {im2colKernel} from './im2col';

/** This package's own kernels on the driver's backend. */
export function im2colKernelConfigs(driver: BackendDriver): KernelConfig[] {
  return [
    conv2dKernel(driver, Im2colConv2D, checkedConv2dGeometry),
    fusedConv2dKernel(driver, FusedIm2colConv2D, checkedConv2dGeometry),
    conv1dKernel(driver),
    im2colKernel(driver),
    col2imKernel(driver),
  ];
}

/** The kernels useIm2col swaps in for the backend's own (tfjs's geometry, tfjs's names). */
export function standInKernelConfigs(driver: BackendDriver): KernelConfig[] {
  return [
    conv2dKernel(driver, Conv2D, tfjsConv2dGeometry, true),
    fusedConv2dKernel(driver, FusedConv2D, tfjsConv2dGeometry, true),
  ];
}

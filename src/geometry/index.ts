/**
 * Convolution geometry, split by concern: `types` (settings and the Conv2DInfo geometry),
 * `checks` (argument validation), `conv2d` (output sizes and pads, 1D as 2D), `tiling`
 * (workspace-bounded tiles), `fused_operands` (bias / PReLU broadcasting), `handover` (the
 * geometry an op hands its kernel). Every op, kernel and gradient derives its shapes here.
 */
export * from './types';
export * from './checks';
export * from './conv2d';
export * from './family';
export * from './tiling';
export * from './fused_operands';
export * from './handover';

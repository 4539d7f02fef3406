/**
 * tfjs-core's own conv-family spec files (conv2d, conv1d, fused conv2d, separable,
 * depthwise, fused depthwise, transpose, conv3d), run on the cpu backend with useIm2col on,
 * once per CPU GEMM, against the same tfjs-core instance (engine, kernel and gradient
 * registries) this file imports. See helpers/tfjs_core_suites.ts for how.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
// tfjs-core's Node bundle leaves out its gradients and chained ops, which tfjs-core's own
// test setup registers: the specs take gradients of every op and call e.g. `x.mul(y)`.
import './helpers/tfjs_gradients';
import './helpers/tfjs_chained_ops';
import {kernelStats, useIm2col} from '../src';
import {state} from '../src/state';
import {CORE_SUITES, CPU_IM2COL_ENVS, defineNodeSuites, formatCounts, SuiteCounts} from './helpers/tfjs_core_suites';

// Switched on while the specs are collected and run: after tfjs's gradients are registered,
// so the switch's restore puts tfjs's own back.
const restore = useIm2col({backends: ['cpu']});
const summary: SuiteCounts[] = [];

afterAll(() => {
  restore();
  console.log(`tfjs-core suites with useIm2col (cpu):\n${summary.map(formatCounts).join('\n')}`);
});

defineNodeSuites({
  tf, suites: CORE_SUITES, envs: CPU_IM2COL_ENVS, kernelCalls: () => kernelStats().calls,
  switchedKernels: backend => state.switched.get(backend) ?? [],
  report: counts => summary.push(counts),
});

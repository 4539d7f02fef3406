/**
 * tfjs-core's own conv-family spec files on tfjs's wasm backend (Node, single-threaded) with
 * `useIm2col({backends: ['wasm']})`, against the same tfjs-core instance: the suites whose
 * every spec passes there today. tfjs's wasm backend alone passes 175 of the 236 specs; the
 * switch brings conv2d, conv1d and separable to all of theirs (conv3d stays tfjs's and passes).
 * Still open (the wasm-backend and conv-family issues): fused conv2d (3 gradient specs trip
 * tfjs's IS_TEST leak check on wasm), depthwise, fused depthwise and conv2dTranspose, whose
 * kernels and gradient kernels this package does not provide on wasm yet.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import './helpers/tfjs_gradients';
import './helpers/tfjs_chained_ops';
import {kernelStats, useIm2col} from '../src';
import {state} from '../src/state';
import {CORE_SUITES, defineNodeSuites, formatCounts, SuiteCounts} from './helpers/tfjs_core_suites';

const PASSING_ON_WASM = ['conv2d', 'conv1d', 'separableConv2d', 'conv3d'];

const restore = useIm2col({backends: ['wasm']});
const summary: SuiteCounts[] = [];

afterAll(() => {
  restore();
  console.log(`tfjs-core suites with useIm2col (wasm):\n${summary.map(formatCounts).join('\n')}`);
});

defineNodeSuites({
  tf, suites: CORE_SUITES.filter(suite => PASSING_ON_WASM.includes(suite.name)),
  envs: [{name: 'wasm-im2col', backendName: 'wasm', isDataSync: true}],
  kernelCalls: () => kernelStats().calls,
  switchedKernels: backend => state.switched.get(backend) ?? [], report: counts => summary.push(counts),
});

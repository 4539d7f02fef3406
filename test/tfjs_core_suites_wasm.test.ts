/**
 * tfjs-core's own conv-family spec files on tfjs's wasm backend (Node, single-threaded) under
 * `useIm2col()`, against the same tfjs-core instance. tfjs's wasm backend alone passes 175 of
 * the 236 specs: it has no Conv2DBackpropFilter, DepthwiseConv2dNativeBackpropFilter or
 * DepthwiseConv2dNativeBackpropInput, no NCHW Conv2D, and its Identity copies the tensors a
 * custom gradient saves (which tfjs's IS_TEST leak check counts). The switch's stand-ins and
 * added kernels bring every suite to all of its specs.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import './helpers/tfjs_gradients';
import './helpers/tfjs_chained_ops';
import {kernelStats, useIm2col} from '../src';
import {state} from '../src/state';
import {CORE_SUITES, defineNodeSuites, formatCounts, SuiteCounts} from './helpers/tfjs_core_suites';

const restore = useIm2col();
const summary: SuiteCounts[] = [];

afterAll(() => {
  restore();
  console.log(`tfjs-core suites with useIm2col (wasm):\n${summary.map(formatCounts).join('\n')}`);
});

defineNodeSuites({
  tf, suites: CORE_SUITES,
  envs: [{name: 'wasm-im2col', backendName: 'wasm', isDataSync: true}],
  // A depthwise stand-in hands the NHWC calls XNNPACK accepts to it: those count as its runs,
  // reported as 'handed Kernel/backend'.
  kernelCalls: () => {
    const {calls, handedToBackend} = kernelStats();
    const handed = Object.entries(handedToBackend).map(([key, n]) => [`handed ${key}`, n]);
    return {...calls, ...Object.fromEntries(handed)};
  },
  switchedKernels: backend => state.switched.get(backend) ?? [], report: counts => summary.push(counts),
});

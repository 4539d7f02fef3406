/**
 * One model of the zoo (bench/model_zoo.ts) on the current tfjs backend, stock tfjs against
 * useIm2col, in this one process (Node for cpu and wasm; the Chromium page for webgl, where
 * this module is bundled into the page by bench/models.ts):
 *
 *  - predict at batch 1 (`model.predict` and a readback of the output) and one training
 *    step (`model.trainOnBatch` on a seeded batch of 1, meanSquaredError, sgd 1e-4; its loss
 *    is read back, which on webgl waits for the weight updates issued before it);
 *  - each phase: `warmups` runs of each side, then `runs` timed rounds alternating the
 *    sides (the side that goes first alternates too); the useIm2col side switches on
 *    before its call and restores after, so its time includes the switch: useIm2col(), or
 *    useIm2col({backends: options.switchBackends}) where given (wasm is only switched when
 *    named);
 *  - the largest absolute difference between the stock and the useIm2col prediction (both
 *    from the first warm-up, on the same weights);
 *  - kernelStats().calls of one useIm2col call per phase: which kernels ran on im2col. The
 *    harness does not assume which tfjs kernels useIm2col switches; it reads the counters;
 *  - tf.profile of one predict under useIm2col: time per tfjs kernel, split into conv
 *    kernels that ran on im2col (their `${kernel}/${backend}` is in kernelStats), conv
 *    kernels still tfjs's, and everything else (batch norm, activations, adds, pooling...).
 *    Op scopes that tfjs records around kernels (customGrad's `fusedConv2d__op`) are left
 *    out, so nothing counts twice. On cpu a kernel's time is its wall time; on webgl
 *    without timer queries (SwiftShader) tfjs's profiler reads every kernel's output back,
 *    so it is wall time with a sync each.
 *
 * A side that throws (stock tfjs cannot train dilated convolutions, and on wasm cannot train
 * a convolution at all: no Conv2DBackpropFilter there) is recorded with its error and not
 * timed; the other side still is.
 */
import * as tf from '@tensorflow/tfjs-core';
import {kernelStats, resetKernelStats, useIm2col} from '../src';
import {buildModel, inputShapeOf, ModelName, ModelScale, outputShapeOf, seededTensor} from './model_zoo';

export type Phase = 'predict' | 'train';
export type Side = 'stock' | 'im2col';

export interface ModelBenchOptions {
  model: ModelName;
  scale: ModelScale;
  phases: Phase[];
  /** Timed rounds per phase (each runs both sides). */
  runs: number;
  /** Untimed runs of each side before the timed rounds. */
  warmups: number;
  /** Profile one predict under useIm2col. */
  profile: boolean;
  /** Progress lines on console.log. */
  verbose: boolean;
  /** The useIm2col side's `backends` option; absent: useIm2col()'s defaults. */
  switchBackends?: string[];
}

export interface PhaseResult {
  phase: Phase;
  /** Medians of the timed rounds, ms; null where the side threw. */
  stockMs: number | null;
  im2colMs: number | null;
  /** stock / useIm2col: above 1 means useIm2col is faster. */
  speedup: number | null;
  stockSamples: number[];
  im2colSamples: number[];
  stockError?: string;
  im2colError?: string;
  /** kernelStats().calls of one useIm2col call of this phase. */
  im2colKernelCalls: Record<string, number>;
  /** Predict only: max |stock - useIm2col| of the outputs, and max |stock| for scale. */
  maxAbsDiff?: number;
  maxAbsOutput?: number;
}

export interface KernelTime {
  kernel: string;
  calls: number;
  ms: number;
  /** 'im2col': a conv kernel that ran on im2col; 'tfjs': a conv kernel still tfjs's; null: not a conv. */
  conv: 'im2col' | 'tfjs' | null;
}

export interface ProfileResult {
  /** Wall time of the profiled predict (profiling adds overhead) and the sum of kernel times. */
  wallMs: number;
  kernelMs: number;
  convIm2colMs: number;
  convTfjsMs: number;
  otherMs: number;
  /** Shares of kernelMs. */
  convIm2colShare: number;
  convTfjsShare: number;
  otherShare: number;
  /** Per kernel name, slowest first. */
  kernels: KernelTime[];
}

export interface ModelBenchResult {
  model: ModelName;
  scale: ModelScale;
  backend: string;
  params: number;
  inputShape: number[];
  outputShape: number[];
  buildMs: number;
  phases: PhaseResult[];
  profile?: ProfileResult;
  /** tf.memory().numTensors after the model is disposed, minus before it was built. */
  leakedTensors: number;
}

const CONV_KERNEL = /conv|im2col|col2im/i;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

function errorText(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split('\n')[0].slice(0, 300);
}

/** Runs `fn` with tfjs's convolutions on im2col on `backends`, restoring tfjs after. */
async function underIm2col<T>(backends: string[] | undefined, fn: () => Promise<T>): Promise<T> {
  const restore = useIm2col(backends == null ? {} : {backends});
  try {
    return await fn();
  } finally {
    restore();
  }
}

function profileSplit(kernels: {name: string, kernelTimeMs: number | {error: string}}[],
                      backend: string, calls: Record<string, number>, wallMs: number): ProfileResult {
  const byName = new Map<string, KernelTime>();
  for (const k of kernels) {
    // tfjs also records op scopes (customGrad's 'fusedConv2d__op', ...) around the kernels
    // they run: only registered kernels count, so no time is counted twice.
    if (tf.getKernel(k.name, backend) == null) continue;
    const ms = typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0;
    let entry = byName.get(k.name);
    if (entry == null) {
      const conv = !CONV_KERNEL.test(k.name) ? null :
          calls[`${k.name}/${backend}`] != null ? 'im2col' : 'tfjs';
      byName.set(k.name, entry = {kernel: k.name, calls: 0, ms: 0, conv});
    }
    entry.calls++;
    entry.ms += ms;
  }
  const list = [...byName.values()].sort((a, b) => b.ms - a.ms);
  const sum = (conv: KernelTime['conv']) => list.filter(k => k.conv === conv).reduce((s, k) => s + k.ms, 0);
  const convIm2colMs = sum('im2col'), convTfjsMs = sum('tfjs'), otherMs = sum(null);
  const kernelMs = convIm2colMs + convTfjsMs + otherMs;
  const share = (ms: number) => kernelMs > 0 ? ms / kernelMs : 0;
  return {wallMs, kernelMs, convIm2colMs, convTfjsMs, otherMs, convIm2colShare: share(convIm2colMs),
          convTfjsShare: share(convTfjsMs), otherShare: share(otherMs), kernels: list};
}

export async function benchModel(options: ModelBenchOptions): Promise<ModelBenchResult> {
  const {model: name, scale, runs, warmups, verbose, switchBackends} = options;
  const backend = tf.getBackend();
  const runSide = <T>(side: Side, fn: () => Promise<T>): Promise<T> =>
      side === 'im2col' ? underIm2col(switchBackends, fn) : fn();
  const log = (text: string) => {
    if (verbose) console.log(`  [${name} ${backend}] ${text}`);
  };
  const tensorsBefore = tf.memory().numTensors;
  let start = performance.now();
  const model = buildModel(name, scale);
  const buildMs = performance.now() - start;
  model.compile({optimizer: tf.train.sgd(1e-4), loss: 'meanSquaredError'});
  const inputShape = inputShapeOf(model), outputShape = outputShapeOf(model);
  const params = model.countParams();
  const x = seededTensor(inputShape, 101);
  const target = seededTensor(outputShape, 102);
  log(`built in ${buildMs.toFixed(0)} ms, ${params} parameters, input ${inputShape.join('x')}`);

  const predict = async (): Promise<Float32Array> => {
    const y = model.predict(x) as tf.Tensor;
    try {
      return await y.data() as Float32Array;
    } finally {
      y.dispose();
    }
  };
  const train = async (): Promise<void> => {
    await model.trainOnBatch(x, target);
  };

  const phases: PhaseResult[] = [];
  let profile: ProfileResult | undefined;
  let leakedTensors = 0;
  try {
    for (const phase of options.phases) {
      const step: () => Promise<Float32Array | void> = phase === 'predict' ? predict : train;
      const result: PhaseResult = {phase, stockMs: null, im2colMs: null, speedup: null,
                                   stockSamples: [], im2colSamples: [], im2colKernelCalls: {}};
      const failed = (side: Side) => (side === 'stock' ? result.stockError : result.im2colError) != null;
      const fail = (side: Side, error: unknown) => {
        const text = errorText(error);
        if (side === 'stock') result.stockError = text; else result.im2colError = text;
        log(`${phase} ${side} threw: ${text}`);
      };
      const outputs: Partial<Record<Side, Float32Array>> = {};
      // Warm-up: the first useIm2col call's counters are the phase's kernel calls.
      for (let w = 0; w < warmups; w++) {
        for (const side of ['stock', 'im2col'] as Side[]) {
          if (failed(side)) continue;
          if (side === 'im2col' && w === 0) resetKernelStats();
          start = performance.now();
          try {
            const out = await runSide(side, step);
            if (w === 0 && out instanceof Float32Array) outputs[side] = out;
          } catch (error) {
            fail(side, error);
            continue;
          }
          if (side === 'im2col' && w === 0) result.im2colKernelCalls = kernelStats().calls;
          log(`${phase} warm-up ${side}: ${(performance.now() - start).toFixed(0)} ms`);
        }
      }
      if (outputs.stock != null && outputs.im2col != null) {
        let diff = 0, scaleOut = 0;
        for (let i = 0; i < outputs.stock.length; i++) {
          diff = Math.max(diff, Math.abs(outputs.stock[i] - outputs.im2col[i]));
          scaleOut = Math.max(scaleOut, Math.abs(outputs.stock[i]));
        }
        result.maxAbsDiff = diff;
        result.maxAbsOutput = scaleOut;
      }
      for (let round = 0; round < runs; round++) {
        const order: Side[] = round % 2 === 0 ? ['stock', 'im2col'] : ['im2col', 'stock'];
        for (const side of order) {
          if (failed(side)) continue;
          start = performance.now();
          try {
            await runSide(side, step);
          } catch (error) {
            fail(side, error);
            continue;
          }
          const ms = performance.now() - start;
          (side === 'stock' ? result.stockSamples : result.im2colSamples).push(ms);
          log(`${phase} round ${round + 1} ${side}: ${ms.toFixed(0)} ms`);
        }
      }
      if (!failed('stock') && result.stockSamples.length) result.stockMs = median(result.stockSamples);
      if (!failed('im2col') && result.im2colSamples.length) result.im2colMs = median(result.im2colSamples);
      if (result.stockMs != null && result.im2colMs != null) {
        result.speedup = result.stockMs / result.im2colMs;
      }
      phases.push(result);

      if (phase === 'predict' && options.profile && !failed('im2col')) {
        resetKernelStats();
        start = performance.now();
        const info = await underIm2col(switchBackends, () => tf.profile(async () => {
          const y = model.predict(x) as tf.Tensor;
          await y.data();
          return y;
        }));
        const wallMs = performance.now() - start;
        tf.dispose(info.result as tf.Tensor);
        profile = profileSplit(info.kernels as never, backend, kernelStats().calls, wallMs);
        const pct = (share: number) => `${(100 * share).toFixed(0)}%`;
        log(`profile: ${profile.kernelMs.toFixed(0)} ms in kernels, conv on im2col ` +
            `${pct(profile.convIm2colShare)}, conv tfjs ${pct(profile.convTfjsShare)}`);
      }
    }
  } finally {
    model.optimizer?.dispose();
    model.dispose();
    tf.dispose([x, target]);
    leakedTensors = tf.memory().numTensors - tensorsBefore;
    if (leakedTensors !== 0) {
      const threw = phases.some(p => p.stockError != null || p.im2colError != null);
      log(`${leakedTensors} tensors left after dispose` +
          (threw ? ' (a step that threw leaves its tensors: tfjs does not dispose them)' : ''));
    }
  }
  return {model: name, scale, backend, params, inputShape, outputShape, buildMs, phases, profile,
          leakedTensors};
}

/**
 * `npm run bench`: the layer suite on tfjs's cpu and wasm backends. For each layer, four
 * sides measured round-robin in this one process after warm-up (medians):
 *  - im2col: this package's op (bench/layers.ts layerOps `ours`) on the cpu backend;
 *  - tfCpu, tfWasm: tfjs's op (`reference`) on the cpu backend and on
 *    @tensorflow/tfjs-backend-wasm (XNNPACK, one thread), stock;
 *  - im2colWasm: tfjs's op on the wasm backend under useIm2col({backends: ['wasm']}) (the wasm
 *    driver's default kernels), switched on around each of its samples only, so the ratio
 *    tfWasm / im2colWasm compares the same calls;
 *  - im2colThreads: this package's op on the cpu backend at N worker threads
 *    (IM2COL_CPU_THREADS = N; the im2col side runs at 1, im2colWasm at N).
 * N: --threads=N, default the flag's default (the cores Node reports, at most 8).
 * Prints a table with per-family geomeans and writes bench/results/cpu.json.
 * Peak memory of large-image is measured in fresh child processes, one per side.
 * Then one training step of the small CNN (bench/cnn.ts), medians after warm-up: stock tfjs
 * and useIm2col() on the cpu backend, stock tfjs (which has no Conv2DBackpropFilter on wasm:
 * recorded as throwing) and useIm2col({backends: ['wasm']}) on the wasm backend.
 *
 * Options: --layers=a,b (a subset), --gemm=wasm|typescript (IM2COL_CPU_GEMM),
 * --training=off (skip the training step).
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import {setWasmPaths} from '@tensorflow/tfjs-backend-wasm';
import {spawnSync} from 'child_process';
import {mkdirSync, writeFileSync} from 'fs';
import {cpus} from 'os';
import * as path from 'path';
import '../test/helpers/tfjs_gradients';
import * as lib from '../src';
import {CPU_GEMM_FLAG, CPU_THREADS_FLAG, disposeIm2colThreads, im2colConv2d, kernelStats, resetKernelStats, useIm2col} from '../src';
import type {UseIm2colOptions} from '../src';
import {cpuGemm} from '../src/cpu/gemm';
import {WASM_BLOCKING} from '../src/cpu/gemm/blocking.generated';
import {planTickets} from '../src/cpu/threads/threaded_conv';
import {cnn, cnnBatch, CNN_DESCRIPTION} from './cnn';
import {BENCH_LAYERS, BenchLayer, layerFamily, layerFlops, layerOps} from './layers';

type Side = 'im2col' | 'im2colThreads' | 'tfCpu' | 'tfWasm' | 'im2colWasm';
const SIDES: Side[] = ['im2col', 'im2colThreads', 'tfCpu', 'tfWasm', 'im2colWasm'];
const BACKEND: Record<Side, string> =
    {im2col: 'cpu', im2colThreads: 'cpu', tfCpu: 'cpu', tfWasm: 'wasm', im2colWasm: 'wasm'};
/** The sides that run tfjs's ops with the switch on; the others run with it off. */
const SWITCH: Partial<Record<Side, UseIm2colOptions>> = {im2colWasm: {backends: ['wasm']}};

/** The sides' IM2COL_CPU_THREADS (set with --threads; the sides of tfjs's kernels ignore it). */
let threadsOf: Record<Side, number>;

/**
 * Runs `fn` with `side`'s threads and switch on (if it has one), restoring tfjs's kernels
 * after.
 */
function onSide<T>(side: Side, fn: () => T): T {
  tf.env().set(CPU_THREADS_FLAG, threadsOf[side]);
  const switchOptions = SWITCH[side];
  if (switchOptions == null) return fn();
  const restore = useIm2col(switchOptions);
  try {
    return fn();
  } finally {
    restore();
  }
}

const options = new Map(process.argv.slice(2).map(arg => {
  const [key, value] = arg.replace(/^--/, '').split('=');
  return [key, value] as [string, string];
}));

function values(size: number): Float32Array {
  const data = new Float32Array(size);
  for (let i = 0; i < size; i++) data[i] = Math.sin(i * 0.37) * 0.5;
  return data;
}

/** Builds the layer's conv on `side`; inputs live on that side's backend, which must be the
 * current one when `run` is called (switching backends costs more than a small conv). Only
 * the im2col side calls this package's op; im2colWasm gets im2col through the switch. */
function layerRun(layer: BenchLayer, side: Side): {run: () => void, dispose: () => void} {
  tf.setBackend(BACKEND[side]);
  const size = (shape: number[]) => shape.reduce((a, b) => a * b, 1);
  const x = tf.tensor(values(size(layer.input)), layer.input);
  const filter = tf.tensor(values(size(layer.filter)), layer.filter);
  const ops = layerOps(tf, lib, layer, x, filter);
  const conv = side === 'im2col' || side === 'im2colThreads' ? ops.ours : ops.reference;
  return {
    run: () => {
      const y = conv();
      y.dataSync();
      y.dispose();
    },
    dispose: () => tf.dispose([x, filter])
  };
}

function median(times: number[]): number {
  const sorted = [...times].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

interface LayerResult {
  name: string;
  family: string;
  flops: number;
  ms: Record<Side, number>;
  samples: Record<Side, number>;
  runsPerSample: Record<Side, number>;
  gflops: Record<Side, number>;
  speedupVsCpu: number;
  ratioVsWasm: number;
  /** Ours at N threads over ours at 1 (im2col ms / im2colThreads ms). */
  threadSpeedup: number;
  /** tfWasm ms / im2colThreads ms. */
  threadsVsWasm: number;
  /** On the wasm backend: tfWasm ms / im2colWasm ms (stock over switched, same calls). */
  ratioOnWasm: number;
  /** Kernels that ran on im2col in one im2colWasm run (none: the switch left this op to tfjs). */
  im2colWasmKernels: string[];
  /** The im2col side's (cpu) largest workspace of one run. */
  peakWorkspaceBytes: number;
}

/**
 * Round-robin samples so load from other processes hits every side alike. A sample times
 * enough back-to-back runs to last a few milliseconds (one run for slow layers); each side
 * stops after `maxSamples` or once it has spent its time budget (at least `minSamples`).
 */
function benchLayer(layer: BenchLayer): LayerResult {
  const runners = Object.fromEntries(SIDES.map(side => [side, layerRun(layer, side)])) as
      Record<Side, ReturnType<typeof layerRun>>;
  const perSide = <T>(value: () => T) =>
      Object.fromEntries(SIDES.map(side => [side, value()])) as Record<Side, T>;
  const times = perSide<number[]>(() => []);
  const spent = perSide(() => 0);
  const repeats = perSide(() => 1);
  const minSamples = 3, maxSamples = 201, budgetMs = 1500, sampleMs = 2, warmUpMs = 250;
  for (const side of SIDES) {
    tf.setBackend(BACKEND[side]);
    onSide(side, () => {
      let runs = 0;
      const start = performance.now();
      do {
        runners[side].run();
        runs++;
      } while (performance.now() - start < warmUpMs);
      repeats[side] = Math.max(1, Math.round(sampleMs / ((performance.now() - start) / runs)));
    });
  }
  for (let sample = 0; sample < maxSamples; sample++) {
    let ran = false;
    // Each round starts with a different side, so none always follows a backend switch.
    const first = sample % SIDES.length;
    for (const side of [...SIDES.slice(first), ...SIDES.slice(0, first)]) {
      if (sample >= minSamples && spent[side] > budgetMs) continue;
      tf.setBackend(BACKEND[side]);
      // The switch goes on and off outside the timed runs.
      const ms = onSide(side, () => {
        const start = performance.now();
        for (let i = 0; i < repeats[side]; i++) runners[side].run();
        return performance.now() - start;
      });
      times[side].push(ms / repeats[side]);
      spent[side] += ms;
      ran = true;
    }
    if (!ran) break;
  }
  // One more run of each im2col side alone, for its counters: the sides share them.
  resetKernelStats();
  tf.setBackend(BACKEND.im2col);
  runners.im2col.run();
  const peakWorkspaceBytes = kernelStats().peakWorkspaceBytes;
  resetKernelStats();
  tf.setBackend(BACKEND.im2colWasm);
  onSide('im2colWasm', runners.im2colWasm.run);
  const im2colWasmKernels = Object.keys(kernelStats().calls).filter(k => k.endsWith('/wasm'));
  for (const side of SIDES) runners[side].dispose();
  const flops = layerFlops(layer);
  const ms = Object.fromEntries(SIDES.map(side => [side, median(times[side])])) as
      Record<Side, number>;
  return {
    name: layer.name,
    family: layerFamily(layer),
    flops,
    ms,
    samples: Object.fromEntries(SIDES.map(side => [side, times[side].length])) as
        Record<Side, number>,
    runsPerSample: repeats,
    gflops: Object.fromEntries(SIDES.map(side => [side, flops / ms[side] / 1e6])) as
        Record<Side, number>,
    speedupVsCpu: ms.tfCpu / ms.im2col,
    ratioVsWasm: ms.tfWasm / ms.im2col,
    threadSpeedup: ms.im2col / ms.im2colThreads,
    threadsVsWasm: ms.tfWasm / ms.im2colThreads,
    ratioOnWasm: ms.tfWasm / ms.im2colWasm,
    im2colWasmKernels,
    peakWorkspaceBytes,
  };
}

/**
 * The ticket plan (src/cpu/threads/threaded_conv.ts planTickets) of each plain 2D or 1D layer
 * at 2 to 16 threads: its granularity bounds the speedup more cores can give. A thread's
 * largest share: whole tickets dealt out evenly, ceil(tickets / N) of them.
 */
function workSplit(layers: BenchLayer[]) {
  return layers.filter(l => l.kind === 'conv2d' || l.kind === 'conv1d').map(layer => {
    const [kh, kw, inC, outC] = layer.kind === 'conv1d' ? [1, ...layer.filter] : layer.filter;
    const rows = layerFlops(layer) / (2 * kh * kw * inC * outC);
    const width = Math.ceil(outC / WASM_BLOCKING.NR) * WASM_BLOCKING.NR;
    return {name: layer.name, perThreads: [2, 4, 8, 16].map(threads => {
      const plan = planTickets(rows, kh * kw * inC, width, threads, 64 * 2 ** 20)!;
      const tickets = plan.rowBlocks * plan.columnBlocks;
      return {threads, rowBlocks: plan.rowBlocks, columnBlocks: plan.columnBlocks,
              largestShare: Math.ceil(tickets / threads) / tickets};
    })};
  });
}

/** The layers the threads' 1.7x target is judged on. */
const LARGE_LAYERS = ['resnet-3x3', 'resnet-deep', 'strided', 'batch-8', 'large-image', 'conv1d-seq'];

const geomean = (xs: number[]) => Math.exp(xs.reduce((s, x) => s + Math.log(x), 0) / xs.length);

interface MemoryResult {
  side: Side;
  /** Growth of the process's peak resident set over one run, bytes. */
  peakRssDelta: number;
  /** ArrayBuffer bytes held right after the run (output included), minus before. */
  arrayBuffersDelta: number;
}

/** Child-process mode: one run of one layer on one side, peak memory to stdout. */
function measureMemory(layerName: string, side: Side): MemoryResult {
  const layer = BENCH_LAYERS.find(l => l.name === layerName)!;
  tf.setBackend(BACKEND[side]);
  const size = (shape: number[]) => shape.reduce((a, b) => a * b, 1);
  const x = tf.tensor4d(values(size(layer.input)), layer.input as [number, number, number, number]);
  const filter = tf.tensor4d(values(size(layer.filter)),
      layer.filter as [number, number, number, number]);
  global.gc!();
  const before = process.memoryUsage();
  const rssBefore = process.resourceUsage().maxRSS * 1024;
  const y = side === 'im2col' ?
      im2colConv2d(x, filter, layer.stride, layer.pad, 'NHWC', layer.dilation) :
      tf.conv2d(x, filter, layer.stride, layer.pad, 'NHWC', layer.dilation);
  y.dataSync();
  const after = process.memoryUsage();
  return {
    side,
    peakRssDelta: Math.max(0, process.resourceUsage().maxRSS * 1024 - Math.max(rssBefore, before.rss)),
    arrayBuffersDelta: after.arrayBuffers - before.arrayBuffers,
  };
}

function memoryInChild(layerName: string, side: Side): MemoryResult {
  const child = spawnSync(process.execPath, ['--expose-gc', process.argv[1],
      `--memory=${layerName}:${side}`, ...process.argv.slice(2)], {encoding: 'utf8'});
  if (child.status !== 0) throw new Error(`memory run ${layerName}/${side} failed: ${child.stderr}`);
  return JSON.parse(child.stdout.trim().split('\n').pop()!) as MemoryResult;
}

interface TrainingSide {
  side: string;
  backend: 'cpu' | 'wasm';
  /** The switch around each step; null: stock tfjs. */
  useIm2col: UseIm2colOptions | null;
  /** Median of the timed steps; null where the step threw. */
  ms: number | null;
  samples: number[];
  /** The cpu backend's stock step / this side's; null where either threw. */
  speedupVsTfCpu: number | null;
  error?: string;
}

interface TrainingResult {
  model: string;
  batch: number;
  warmUps: number;
  sides: TrainingSide[];
}

/**
 * One training step (model.trainOnBatch) of bench/cnn.ts's CNN on each side, each side with
 * its own copy of the model on its backend (same seeded weights). Round-robin after warm-up
 * like the layers; a side that throws is recorded with its error and not timed.
 */
async function benchTraining(): Promise<TrainingResult> {
  const batch = 4, warmUps = 2, minRounds = 5, maxRounds = 51, budgetMs = 1500;
  const sides: TrainingSide[] = [
    {side: 'tfjs', backend: 'cpu', useIm2col: null},
    {side: 'useIm2col()', backend: 'cpu', useIm2col: {}},
    {side: 'tfjs', backend: 'wasm', useIm2col: null},
    {side: `useIm2col({backends: ['wasm']})`, backend: 'wasm', useIm2col: {backends: ['wasm']}},
  ].map(s => ({...s, ms: null, samples: [], speedupVsTfCpu: null} as TrainingSide));
  const runners = sides.map(s => {
    tf.setBackend(s.backend);
    const model = cnn();
    const {x, labels} = cnnBatch(batch);
    return {model, x, labels, spent: 0};
  });
  /** One step of side `i`, ms; the switch is on only around the step, outside the timing. */
  const step = async (i: number): Promise<number> => {
    const {model, x, labels} = runners[i];
    tf.setBackend(sides[i].backend);
    const restore = sides[i].useIm2col == null ? null : useIm2col(sides[i].useIm2col!);
    try {
      const start = performance.now();
      await model.trainOnBatch(x, labels);
      return performance.now() - start;
    } finally {
      restore?.();
    }
  };
  /** A step's time, or null once the side has thrown (its error recorded). */
  const tryStep = async (i: number): Promise<number | null> => {
    try {
      return await step(i);
    } catch (error) {
      sides[i].error = (error instanceof Error ? error.message : String(error)).split('\n')[0];
      return null;
    }
  };
  const live = () => sides.map((_, i) => i).filter(i => sides[i].error == null);
  for (let w = 0; w < warmUps; w++) {
    for (const i of live()) await tryStep(i);
  }
  for (let round = 0; round < maxRounds; round++) {
    const order = live().filter(i => round < minRounds || runners[i].spent <= budgetMs);
    if (order.length === 0) break;
    const first = round % order.length;
    for (const i of [...order.slice(first), ...order.slice(0, first)]) {
      const ms = await tryStep(i);
      if (ms == null) continue;
      sides[i].samples.push(ms);
      runners[i].spent += ms;
    }
  }
  for (const [i, s] of sides.entries()) {
    if (s.error == null && s.samples.length) s.ms = median(s.samples);
    const {model, x, labels} = runners[i];
    model.optimizer?.dispose();
    model.dispose();
    tf.dispose([x, labels]);
  }
  const tfCpu = sides[0].ms;
  for (const s of sides) s.speedupVsTfCpu = tfCpu == null || s.ms == null ? null : tfCpu / s.ms;
  const result = {model: CNN_DESCRIPTION, batch, warmUps, sides};
  printTraining(result);
  return result;
}

function printTraining({batch, warmUps, sides}: TrainingResult): void {
  console.log(`\nCNN training step (bench/cnn.ts, batch ${batch}; model.trainOnBatch, medians ` +
      `after ${warmUps} warm-up steps):`);
  const header = ['side', 'backend', 'median ms', 'steps', 'tf cpu / this'];
  const rows = sides.map(s => [s.side, s.backend, s.ms == null ? 'throws' : fmtMs(s.ms),
      `${s.samples.length}`, s.speedupVsTfCpu == null ? '—' : fmtX(s.speedupVsTfCpu)]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map(row => row[i].length)));
  const line = (cells: string[]) =>
      cells.map((c, i) => i < 2 ? c.padEnd(widths[i]) : c.padStart(widths[i])).join('  ');
  console.log(line(header));
  console.log(widths.map(w => '-'.repeat(w)).join('  '));
  for (const row of rows) console.log(line(row));
  for (const s of sides) {
    if (s.error != null) console.log(`${s.side} on ${s.backend} threw: ${s.error}`);
  }
  const [cpuOurs, wasmOurs] = [sides[1].ms, sides[3].ms];
  if (cpuOurs != null && wasmOurs != null) {
    console.log(`on wasm under the switch vs on cpu under the switch: ` +
        `${fmtX(cpuOurs / wasmOurs)} (cpu ms / wasm ms)`);
  }
}

const fmtMs = (ms: number) => ms < 1 ? ms.toFixed(3) : ms < 100 ? ms.toFixed(2) : ms.toFixed(0);
const fmtRate = (gflops: number) => gflops < 0.1 ? gflops.toPrecision(2) : gflops.toFixed(2);
const fmtX = (x: number) => x.toFixed(2) + 'x';
const mib = (bytes: number) => (bytes / 2 ** 20).toFixed(1) + ' MiB';

async function main() {
  tf.env().set('IS_TEST', true);  // silences tfjs's advice to install tfjs-node
  if (options.has('gemm')) tf.env().set(CPU_GEMM_FLAG, options.get('gemm')!);
  await tf.setBackend('cpu');
  setWasmPaths(path.join(path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm')), '/'));
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
  await tf.setBackend('wasm');
  await tf.setBackend('cpu');

  const memory = options.get('memory');
  if (memory) {
    const [layerName, side] = memory.split(':');
    tf.env().set(CPU_THREADS_FLAG, 1);
    if (side !== 'im2col') await tf.setBackend(BACKEND[side as Side]);
    console.log(JSON.stringify(measureMemory(layerName, side as Side)));
    return;
  }

  const threads = Number(options.get('threads') ?? tf.env().get(CPU_THREADS_FLAG));
  threadsOf = {im2col: 1, im2colThreads: threads, tfCpu: 1, tfWasm: 1, im2colWasm: threads};
  const wanted = options.get('layers')?.split(',');
  const layers = BENCH_LAYERS.filter(l => !wanted || wanted.includes(l.name));
  const gemm = cpuGemm().name;
  console.log(`tfjs-im2col cpu benchmark: GEMM '${gemm}', Node ${process.version}, ` +
      `${cpus()[0].model} (${cpus().length} cores); tf wasm backend single-threaded; ours ` +
      `at 1 and ${threads} threads (ours on wasm at ${threads})`);
  const header = ['layer', 'im2col ms', `${threads} thr ms`, 'tf cpu ms', 'tf wasm ms',
                  'ours on wasm ms', 'im2col GF/s', 'cpu GF/s', 'wasm GF/s', 'vs cpu',
                  'vs wasm', `${threads}/1 thr`, `${threads} thr vs wasm`, 'wasm: ours/tf',
                  'workspace'];
  const rows: string[][] = [];
  const results: LayerResult[] = [];
  for (const layer of layers) {
    const r = benchLayer(layer);
    results.push(r);
    // '*': the switch left this layer's kernels to tfjs on wasm, so both wasm sides are XNNPACK.
    const onWasm = fmtX(r.ratioOnWasm) + (r.im2colWasmKernels.length ? '' : '*');
    const row = [r.name, fmtMs(r.ms.im2col), fmtMs(r.ms.im2colThreads), fmtMs(r.ms.tfCpu),
        fmtMs(r.ms.tfWasm), fmtMs(r.ms.im2colWasm), fmtRate(r.gflops.im2col),
        fmtRate(r.gflops.tfCpu), fmtRate(r.gflops.tfWasm), fmtX(r.speedupVsCpu),
        fmtX(r.ratioVsWasm), fmtX(r.threadSpeedup), fmtX(r.threadsVsWasm), onWasm,
        `${r.peakWorkspaceBytes}`];
    rows.push(row);
    console.log(row.join('  '));
  }
  const families = [...new Set(results.map(r => r.family))];
  const byFamily = Object.fromEntries(families.map(family => {
    const members = results.filter(r => r.family === family);
    return [family, {speedupVsCpu: geomean(members.map(r => r.speedupVsCpu)),
                     ratioVsWasm: geomean(members.map(r => r.ratioVsWasm)),
                     ratioOnWasm: geomean(members.map(r => r.ratioOnWasm))}];
  }));
  const summary = {
    speedupVsCpu: geomean(results.map(r => r.speedupVsCpu)),
    ratioVsWasm: geomean(results.map(r => r.ratioVsWasm)),
    ratioOnWasm: geomean(results.map(r => r.ratioOnWasm)),
    slowestVsCpu: Math.min(...results.map(r => r.speedupVsCpu)),
    threads,
    threadSpeedup: geomean(results.map(r => r.threadSpeedup)),
    threadsVsWasm: geomean(results.map(r => r.threadsVsWasm)),
    slowestThreadSpeedup: Math.min(...results.map(r => r.threadSpeedup)),
    largeLayersThreadSpeedup: Object.fromEntries(results.filter(r => LARGE_LAYERS.includes(r.name))
        .map(r => [r.name, r.threadSpeedup])),
    byFamily,
  };
  rows.push(['geomean', '', '', '', '', '', '', '', '', fmtX(summary.speedupVsCpu),
             fmtX(summary.ratioVsWasm), fmtX(summary.threadSpeedup),
             fmtX(summary.threadsVsWasm), fmtX(summary.ratioOnWasm), '']);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map(row => row[i].length)));
  const line = (cells: string[]) =>
      cells.map((c, i) => i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i])).join('  ');
  console.log('\n' + line(header));
  console.log(widths.map(w => '-'.repeat(w)).join('  '));
  for (const row of rows) console.log(line(row));
  if (results.some(r => r.im2colWasmKernels.length === 0)) {
    console.log(`* useIm2col({backends: ['wasm']}) ran none of this package's kernels there: ` +
        `its forward stand-ins hand the NHWC calls XNNPACK accepts to XNNPACK, which runs whole ` +
        `models faster (kernelStats().handedToBackend): XNNPACK on both sides`);
  }
  const check = (ok: boolean) => ok ? 'met' : 'NOT met';
  console.log(`slowest layer vs tf cpu: ${fmtX(summary.slowestVsCpu)}`);
  for (const [family, f] of Object.entries(byFamily)) {
    console.log(`  ${family.padEnd(10)} geomean vs tf cpu ${fmtX(f.speedupVsCpu)} (>= 10x ` +
        `${check(f.speedupVsCpu >= 10)}), vs tf wasm ${fmtX(f.ratioVsWasm)} ` +
        `(>= 0.75x ${check(f.ratioVsWasm >= 0.75)}), on wasm ours/tf ` +
        `${fmtX(f.ratioOnWasm)} (>= 0.95x ${check(f.ratioOnWasm >= 0.95)})`);
  }
  const article = results.find(r => r.name === 'article-2');
  const large = Object.values(summary.largeLayersThreadSpeedup);
  console.log(`threads (${threads}): large layers (${LARGE_LAYERS.join(', ')}) >= 1.7x ours at ` +
      `1 thread ${check(large.length > 0 && Math.min(...large) >= 1.7)} (worst ` +
      `${large.length ? fmtX(Math.min(...large)) : '-'}); geomean >= 1.6x tf wasm ` +
      `${check(summary.threadsVsWasm >= 1.6)} (${fmtX(summary.threadsVsWasm)}); no layer ` +
      `slower than ours at 1 thread ${check(summary.slowestThreadSpeedup >= 1)} (slowest ` +
      `${fmtX(summary.slowestThreadSpeedup)})` + (article ? `; article-2 at ${threads} threads ` +
      `within 2x of tf cpu ${check(article.ms.tfCpu / article.ms.im2colThreads >= 0.5)}` : ''));
  const subset = layers.length < BENCH_LAYERS.length ?
      ' (judged on the whole suite; this is a subset)' : '';
  console.log(`targets${subset}: geomean vs tf cpu >= 10x ${check(summary.speedupVsCpu >= 10)}; ` +
      `no layer slower than tf cpu ${check(summary.slowestVsCpu >= 1)}; ` +
      `geomean vs tf wasm >= 0.75x ${check(summary.ratioVsWasm >= 0.75)}; ` +
      `on wasm, geomean ours/tf >= 0.95x ${check(summary.ratioOnWasm >= 0.95)}` +
      (article ? `; article-2 within 2x of tf cpu ${check(article.speedupVsCpu >= 0.5)}` : ''));

  const split = workSplit(layers);
  console.log('\nHow the work splits on more cores: tickets of the threaded 2D convolutions ' +
      '(row blocks x column blocks) and the most any one thread of N gets, as a share of the ' +
      'layer (1/N is even; the calling thread also copies results out):');
  for (const row of split) {
    console.log(`  ${row.name.padEnd(14)} ` + row.perThreads.map(({threads: t, rowBlocks,
        columnBlocks, largestShare}) => `${t}: ${rowBlocks}x${columnBlocks} ` +
        `${(100 * largestShare).toFixed(0)}%`).join('   '));
  }

  let memoryResults: MemoryResult[] = [];
  if (layers.some(l => l.name === 'large-image')) {
    memoryResults = (['im2col', 'tfCpu'] as Side[]).map(side => memoryInChild('large-image', side));
    console.log('\nlarge-image peak memory of one run (fresh process each):');
    for (const m of memoryResults) {
      console.log(`  ${m.side.padEnd(7)} peak RSS +${mib(m.peakRssDelta)}, ArrayBuffers ` +
          `+${mib(m.arrayBuffersDelta)} (the 16 MiB output included; wasm memory shows ` +
          `in RSS only)`);
    }
  }

  let training: TrainingResult | null = null;
  if (options.get('training') !== 'off') {
    // IS_TEST's leak check counts the copies wasm's Identity makes of what tfjs's own
    // fusedMatMul__op (the Dense layer) saves for its gradient, and throws: off for every
    // side alike, as in bench/training.ts.
    tf.env().set('IS_TEST', false);
    try {
      training = await benchTraining();
    } finally {
      tf.env().set('IS_TEST', true);
    }
  }

  const outDir = path.join(process.cwd(), 'bench/results');
  mkdirSync(outDir, {recursive: true});
  const file = path.join(outDir, 'cpu.json');
  writeFileSync(file, JSON.stringify({
    date: new Date().toISOString(),
    machine: {cpu: cpus()[0].model, cores: cpus().length, node: process.version},
    gemm,
    tfjs: tf.version_core,
    layers: results,
    summary,
    largeImageMemory: memoryResults,
    workSplit: split,
    training,
  }, null, 2) + '\n');
  console.log(`\nwrote ${path.relative(process.cwd(), file)}`);
  disposeIm2colThreads();
}

main().catch(error => {
  console.error(error);
  process.exit(1);
});

/**
 * `npm run bench`: the layer suite on tfjs's cpu backend. For each layer, this package's op
 * (cpu) against tfjs's (bench/layers.ts layerOps) on the cpu backend and on
 * @tensorflow/tfjs-backend-wasm (XNNPACK, one thread), measured round-robin in this one
 * process after warm-up (medians). Prints a table with per-family geomeans and writes
 * bench/results/cpu.json.
 * Peak memory of large-image is measured in fresh child processes, one per side.
 *
 * Options: --layers=a,b (a subset), --gemm=wasm|typescript (IM2COL_CPU_GEMM).
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import {setWasmPaths} from '@tensorflow/tfjs-backend-wasm';
import {spawnSync} from 'child_process';
import {mkdirSync, writeFileSync} from 'fs';
import {cpus} from 'os';
import * as path from 'path';
import * as lib from '../src';
import {CPU_GEMM_FLAG, im2colConv2d, kernelStats, resetKernelStats} from '../src';
import {cpuGemm} from '../src/cpu/gemm';
import {BENCH_LAYERS, BenchLayer, layerFamily, layerFlops, layerOps} from './layers';

type Side = 'im2col' | 'tfCpu' | 'tfWasm';
const SIDES: Side[] = ['im2col', 'tfCpu', 'tfWasm'];
const BACKEND: Record<Side, string> = {im2col: 'cpu', tfCpu: 'cpu', tfWasm: 'wasm'};

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
 * current one when `run` is called (switching backends costs more than a small conv). */
function layerRun(layer: BenchLayer, side: Side): {run: () => void, dispose: () => void} {
  tf.setBackend(BACKEND[side]);
  const size = (shape: number[]) => shape.reduce((a, b) => a * b, 1);
  const x = tf.tensor(values(size(layer.input)), layer.input);
  const filter = tf.tensor(values(size(layer.filter)), layer.filter);
  const ops = layerOps(tf, lib, layer, x, filter);
  const conv = side === 'im2col' ? ops.ours : ops.reference;
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
  const times: Record<Side, number[]> = {im2col: [], tfCpu: [], tfWasm: []};
  const spent: Record<Side, number> = {im2col: 0, tfCpu: 0, tfWasm: 0};
  const repeats: Record<Side, number> = {im2col: 1, tfCpu: 1, tfWasm: 1};
  const minSamples = 3, maxSamples = 201, budgetMs = 1500, sampleMs = 2, warmUpMs = 250;
  for (const side of SIDES) {
    tf.setBackend(BACKEND[side]);
    let runs = 0;
    const start = performance.now();
    do {
      runners[side].run();
      runs++;
    } while (performance.now() - start < warmUpMs);
    repeats[side] = Math.max(1, Math.round(sampleMs / ((performance.now() - start) / runs)));
  }
  resetKernelStats();
  for (let sample = 0; sample < maxSamples; sample++) {
    let ran = false;
    // Each round starts with a different side, so none always follows a backend switch.
    for (const side of [...SIDES.slice(sample % 3), ...SIDES.slice(0, sample % 3)]) {
      if (sample >= minSamples && spent[side] > budgetMs) continue;
      tf.setBackend(BACKEND[side]);
      const start = performance.now();
      for (let i = 0; i < repeats[side]; i++) runners[side].run();
      const ms = performance.now() - start;
      times[side].push(ms / repeats[side]);
      spent[side] += ms;
      ran = true;
    }
    if (!ran) break;
  }
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
    peakWorkspaceBytes: kernelStats().peakWorkspaceBytes,
  };
}

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
    if (side !== 'im2col') await tf.setBackend(BACKEND[side as Side]);
    console.log(JSON.stringify(measureMemory(layerName, side as Side)));
    return;
  }

  const wanted = options.get('layers')?.split(',');
  const layers = BENCH_LAYERS.filter(l => !wanted || wanted.includes(l.name));
  const gemm = cpuGemm().name;
  console.log(`tfjs-im2col cpu benchmark: GEMM '${gemm}', Node ${process.version}, ` +
      `${cpus()[0].model} (${cpus().length} cores); tf wasm backend single-threaded`);
  const header = ['layer', 'im2col ms', 'tf cpu ms', 'tf wasm ms', 'im2col GF/s', 'cpu GF/s',
                  'wasm GF/s', 'vs cpu', 'vs wasm', 'workspace'];
  const rows: string[][] = [];
  const results: LayerResult[] = [];
  for (const layer of layers) {
    const r = benchLayer(layer);
    results.push(r);
    const row = [r.name, fmtMs(r.ms.im2col), fmtMs(r.ms.tfCpu), fmtMs(r.ms.tfWasm),
        fmtRate(r.gflops.im2col), fmtRate(r.gflops.tfCpu), fmtRate(r.gflops.tfWasm),
        fmtX(r.speedupVsCpu), fmtX(r.ratioVsWasm), `${r.peakWorkspaceBytes}`];
    rows.push(row);
    console.log(row.join('  '));
  }
  const families = [...new Set(results.map(r => r.family))];
  const byFamily = Object.fromEntries(families.map(family => {
    const members = results.filter(r => r.family === family);
    return [family, {speedupVsCpu: geomean(members.map(r => r.speedupVsCpu)),
                     ratioVsWasm: geomean(members.map(r => r.ratioVsWasm))}];
  }));
  const summary = {
    speedupVsCpu: geomean(results.map(r => r.speedupVsCpu)),
    ratioVsWasm: geomean(results.map(r => r.ratioVsWasm)),
    slowestVsCpu: Math.min(...results.map(r => r.speedupVsCpu)),
    byFamily,
  };
  rows.push(['geomean', '', '', '', '', '', '', fmtX(summary.speedupVsCpu),
             fmtX(summary.ratioVsWasm), '']);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map(row => row[i].length)));
  const line = (cells: string[]) =>
      cells.map((c, i) => i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i])).join('  ');
  console.log('\n' + line(header));
  console.log(widths.map(w => '-'.repeat(w)).join('  '));
  for (const row of rows) console.log(line(row));
  console.log(`slowest layer vs tf cpu: ${fmtX(summary.slowestVsCpu)}`);
  for (const [family, f] of Object.entries(byFamily)) {
    console.log(`  ${family.padEnd(10)} geomean vs tf cpu ${fmtX(f.speedupVsCpu)} (>= 10x ` +
        `${f.speedupVsCpu >= 10 ? 'met' : 'NOT met'}), vs tf wasm ${fmtX(f.ratioVsWasm)} ` +
        `(>= 0.75x ${f.ratioVsWasm >= 0.75 ? 'met' : 'NOT met'})`);
  }
  const article = results.find(r => r.name === 'article-2');
  const check = (ok: boolean) => ok ? 'met' : 'NOT met';
  const subset = layers.length < BENCH_LAYERS.length ?
      ' (judged on the whole suite; this is a subset)' : '';
  console.log(`targets${subset}: geomean vs tf cpu >= 10x ${check(summary.speedupVsCpu >= 10)}; ` +
      `no layer slower than tf cpu ${check(summary.slowestVsCpu >= 1)}; ` +
      `geomean vs tf wasm >= 0.75x ${check(summary.ratioVsWasm >= 0.75)}` +
      (article ? `; article-2 within 2x of tf cpu ${check(article.speedupVsCpu >= 0.5)}` : ''));

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
  }, null, 2) + '\n');
  console.log(`\nwrote ${path.relative(process.cwd(), file)}`);
}

main().catch(error => {
  console.error(error);
  process.exit(1);
});

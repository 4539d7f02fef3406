/**
 * `npm run bench:cpu-browser`: the CPU kernels' worker threads in headless Chromium. The page
 * is served cross-origin isolated (COOP/COEP), so both this package's pool and tfjs's threaded
 * wasm build may share memory with workers. For each layer of bench/layers.ts, three sides
 * measured in the page, round-robin after warm-up (medians, as bench/cpu.ts):
 *  - ours1, oursN: this package's op (layerOps `ours`) on the cpu backend with
 *    IM2COL_CPU_THREADS 1 and N (the flag set outside the timed runs);
 *  - tfWasmN: tfjs's op (`reference`) on @tensorflow/tfjs-backend-wasm, its threaded SIMD
 *    build with setThreadsCount(N) (XNNPACK's thread pool), stock. That build caps its pool
 *    at hardwareConcurrency / 2 (it assumes two hardware threads per core), so where that is
 *    below N the page's hardwareConcurrency is raised to 2N through the DevTools protocol
 *    before the backend starts, and the run records both values.
 * Prints a table with geomeans and writes bench/results/cpu-browser.json, with what each side
 * really ran on: the pool's started workers, the wasm binary fetched and getThreadsCount().
 *
 * Options: --threads=N (default: the page's flag default, min(hardwareConcurrency, 8)),
 * --layers=a,b (a subset), --budget=MS (time each side may spend per layer, default 1500).
 */
import {mkdirSync, writeFileSync} from 'fs';
import {cpus, loadavg} from 'os';
import * as path from 'path';
import {BENCH_LAYERS, BenchLayer, layerFamily, layerFlops} from './layers';
import {PageGlobals, TfjsPage} from '../test/browser/tfjs_page';

type Side = 'ours1' | 'oursN' | 'tfWasmN';
const SIDES: Side[] = ['ours1', 'oursN', 'tfWasmN'];

const ISOLATED = {'Cross-Origin-Opener-Policy': 'same-origin',
                  'Cross-Origin-Embedder-Policy': 'require-corp'};

const options = new Map(process.argv.slice(2).map(arg => {
  const [key, value] = arg.replace(/^--/, '').split('=');
  return [key, value] as [string, string];
}));

/** What the page started: isolation, our pool, tfjs's wasm backend. */
interface PageSetup {
  crossOriginIsolated: boolean;
  threads: number;
  /** Our pool after a warm-up call and a pause: its size and the workers that started. */
  pool: {threads: number, readyWorkers: number} | null;
  /** Warnings the page printed while starting (one if our pool could not start). */
  warnings: string[];
  tfWasm: {started: boolean, threadsCount: number | null, error: string | null};
}

/** Page side, before anything else: the cores it sees and the flag's default. */
function pageCores({tf, lib}: PageGlobals): {hardwareConcurrency: number, flagDefault: number} {
  return {hardwareConcurrency: navigator.hardwareConcurrency,
          flagDefault: tf.env().getNumber(lib.CPU_THREADS_FLAG)};
}

/** Page side: our pool on N threads warmed up, tfjs's wasm backend started on N threads. */
async function setUpPage({tf, lib, wasm, pool}: PageGlobals, threads: number):
    Promise<PageSetup> {
  const warnings: string[] = [];
  const warn = console.warn;
  console.warn = (...args: unknown[]) => {
    warnings.push(args.map(String).join(' '));
    warn(...args);
  };
  try {
    await tf.setBackend('cpu');
    tf.env().set(lib.CPU_THREADS_FLAG, threads);
    // One threaded call makes the pool; its workers start once the main thread is free.
    const x = tf.ones([1, 56, 56, 64]) as import('@tensorflow/tfjs-core').Tensor4D;
    const filter = tf.ones([3, 3, 64, 64]) as import('@tensorflow/tfjs-core').Tensor4D;
    lib.im2colConv2d(x, filter, 1, 'same').dispose();
    tf.dispose([x, filter]);
    await new Promise(resolve => setTimeout(resolve, 500));
    const current = (pool as typeof import('../src/cpu/threads/pool')).currentThreadPool();
    const tfWasm: PageSetup['tfWasm'] = {started: false, threadsCount: null, error: null};
    try {
      wasm.setThreadsCount(threads);
      tfWasm.started = await tf.setBackend('wasm');
      if (tfWasm.started) tfWasm.threadsCount = wasm.getThreadsCount();
    } catch (error) {
      tfWasm.error = String((error as Error)?.message ?? error);
    }
    await tf.setBackend('cpu');
    return {
      crossOriginIsolated: globalThis.crossOriginIsolated, threads, warnings, tfWasm,
      pool: current === undefined ? null :
          {threads: current.threads, readyWorkers: current.readyWorkers()},
    };
  } finally {
    console.warn = warn;
  }
}

interface PageTimes {
  times: Record<Side, number[]>;
  repeats: Record<Side, number>;
  /** Calls made, warm-up included. */
  calls: Record<Side, number>;
  /** threadedProducts over the layer's oursN calls (0: its kernels did not thread). */
  threadedProducts: number;
  /** max |oursN - tfWasmN| over the output of each side's first call. */
  maxAbsDiff: number;
}

/**
 * Page side, one layer: round-robin samples so load hits every side alike. A sample times
 * enough back-to-back runs to last a few milliseconds (one run for slow layers); each side
 * stops after `maxSamples` or once it has spent its budget (at least `minSamples`).
 */
async function benchLayer({tf, lib, layers}: PageGlobals,
                          arg: {layer: BenchLayer, threads: number, budgetMs: number,
                                withWasm: boolean}): Promise<PageTimes> {
  const {layer, threads, budgetMs, withWasm} = arg;
  type Tensor = import('@tensorflow/tfjs-core').Tensor;
  const sides: Side[] = withWasm ? ['ours1', 'oursN', 'tfWasmN'] : ['ours1', 'oursN'];
  const backendOf = (side: Side) => side === 'tfWasmN' ? 'wasm' : 'cpu';
  const size = (shape: number[]) => shape.reduce((a, b) => a * b, 1);
  const values = (n: number) => Float32Array.from({length: n}, (_, i) => Math.sin(i * 0.37) * 0.5);
  const made: Tensor[] = [];
  const runners = {} as Record<Side, () => Tensor>;
  for (const side of sides) {
    await tf.setBackend(backendOf(side));
    const x = tf.tensor(values(size(layer.input)), layer.input);
    const filter = tf.tensor(values(size(layer.filter)), layer.filter);
    made.push(x, filter);
    const ops = (layers as typeof import('./layers')).layerOps(tf, lib, layer, x, filter);
    runners[side] = side === 'tfWasmN' ? ops.reference : ops.ours;
  }
  /** Switches to the side's backend and thread count, outside any timing. */
  const enter = async (side: Side) => {
    await tf.setBackend(backendOf(side));
    if (side !== 'tfWasmN') tf.env().set(lib.CPU_THREADS_FLAG, side === 'ours1' ? 1 : threads);
  };
  /** One call; its output's values where `keep` (the first warm-up call's, for the check). */
  const calls = {ours1: 0, oursN: 0, tfWasmN: 0} as Record<Side, number>;
  const run = (side: Side, keep = false) => {
    calls[side]++;
    const y = runners[side]();
    const values = y.dataSync() as Float32Array;
    y.dispose();
    return keep ? values : undefined;
  };
  const times = {ours1: [], oursN: [], tfWasmN: []} as Record<Side, number[]>;
  const spent = {ours1: 0, oursN: 0, tfWasmN: 0} as Record<Side, number>;
  const repeats = {ours1: 1, oursN: 1, tfWasmN: 1} as Record<Side, number>;
  const outputs: Partial<Record<Side, Float32Array>> = {};
  const minSamples = 3, maxSamples = 201, sampleMs = 4, warmUpMs = 250;
  // Only the oursN calls can thread (ours1 runs at IM2COL_CPU_THREADS 1, tfjs's own kernels
  // never count): the counter's growth over the layer is theirs.
  const threadedBefore = lib.kernelStats().threadedProducts;
  for (const side of sides) {
    await enter(side);
    const start = performance.now();
    outputs[side] = run(side, true);
    let runs = 1;
    for (; performance.now() - start < warmUpMs; runs++) run(side);
    repeats[side] = Math.max(1, Math.round(sampleMs / ((performance.now() - start) / runs)));
  }
  for (let sample = 0; sample < maxSamples; sample++) {
    let ran = false;
    // Each round starts with a different side, so none always follows a backend switch.
    const first = sample % sides.length;
    for (const side of [...sides.slice(first), ...sides.slice(0, first)]) {
      if (sample >= minSamples && spent[side] > budgetMs) continue;
      await enter(side);
      const start = performance.now();
      for (let i = 0; i < repeats[side]; i++) run(side);
      const ms = performance.now() - start;
      times[side].push(ms / repeats[side]);
      spent[side] += ms;
      ran = true;
    }
    if (!ran) break;
  }
  const threadedProducts = lib.kernelStats().threadedProducts - threadedBefore;
  let maxAbsDiff = NaN;
  const ours = outputs.oursN!, theirs = outputs.tfWasmN;
  if (theirs !== undefined) {
    maxAbsDiff = ours.length === theirs.length ? 0 : Infinity;
    for (let i = 0; i < theirs.length; i++) {
      maxAbsDiff = Math.max(maxAbsDiff, Math.abs(ours[i] - theirs[i]));
    }
  }
  tf.dispose(made);
  await tf.setBackend('cpu');
  return {times, repeats, calls, threadedProducts, maxAbsDiff};
}

function median(values: number[]): number {
  const sorted = [...values].sort((p, q) => p - q);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

const geomean = (xs: number[]) => Math.exp(xs.reduce((s, x) => s + Math.log(x), 0) / xs.length);
const fmtMs = (ms: number) => ms < 1 ? ms.toFixed(3) : ms < 100 ? ms.toFixed(2) : ms.toFixed(0);
const fmtX = (x: number | null) => x == null ? '—' : x.toFixed(2) + 'x';

interface LayerResult {
  name: string;
  family: string;
  flops: number;
  /** Median ms per call; tfWasmN null where tfjs's wasm backend did not start. */
  ms: Record<Side, number | null>;
  samples: Record<Side, number>;
  runsPerSample: Record<Side, number>;
  /** ours1 ms / oursN ms. */
  threadSpeedup: number;
  /** tfWasmN ms / oursN ms: above 1, ours on N threads is faster. */
  ratioVsWasm: number | null;
  /** kernelStats().threadedProducts over the oursN calls, and per oursN call. */
  threadedProducts: number;
  threadedPerCall: number;
  maxAbsDiff: number | null;
}

async function main(): Promise<void> {
  const wanted = options.has('threads') ? Number(options.get('threads')) : null;
  if (wanted !== null && !(Number.isInteger(wanted) && wanted >= 1)) {
    throw new Error(`--threads must be a whole number from 1, but is ${options.get('threads')}`);
  }
  const budgetMs = Number(options.get('budget') ?? 1500);
  const only = options.get('layers')?.split(',');
  const layers = BENCH_LAYERS.filter(l => only == null || only.includes(l.name));
  const load = loadavg();
  const page = await TfjsPage.open({
    layers: './bench/layers.ts', wasm: '@tensorflow/tfjs-backend-wasm',
    pool: './src/cpu/threads/pool.ts',
  }, {headers: ISOLATED});
  try {
    const chromium = page.page.context().browser()?.version() ?? 'unknown';
    const cores = await page.run(pageCores);
    const threads = wanted ?? cores.flagDefault;
    // tfjs-backend-wasm sizes XNNPACK's pool min(setThreadsCount, 8, hardwareConcurrency / 2).
    let hardwareConcurrencyOverride: number | null = null;
    if (Math.floor(cores.hardwareConcurrency / 2) < threads) {
      hardwareConcurrencyOverride = 2 * threads;
      const cdp = await page.page.context().newCDPSession(page.page);
      await cdp.send('Emulation.setHardwareConcurrencyOverride',
                     {hardwareConcurrency: hardwareConcurrencyOverride});
    }
    const setup = await page.run(setUpPage, threads);
    // The binary tfjs-backend-wasm fetched tells which build started: only the threaded one
    // runs XNNPACK on more than one thread.
    const wasmBinary = page.wasmBinaries[page.wasmBinaries.length - 1] ?? null;
    const wasmThreaded = setup.tfWasm.started && wasmBinary === 'tfjs-backend-wasm-threaded-simd.wasm';
    const ourThreads = setup.pool?.readyWorkers == null ? 1 : setup.pool.readyWorkers + 1;
    console.log(`tfjs-im2col cpu threads in Chromium ${chromium}: cross-origin isolated ` +
        `${setup.crossOriginIsolated}, hardwareConcurrency ${cores.hardwareConcurrency}, ` +
        `IM2COL_CPU_THREADS default ${cores.flagDefault}, benchmarked at N = ${threads}; ` +
        `${cpus()[0].model} (${cpus().length} cores), load average ${load[0].toFixed(2)}`);
    console.log(`ours: ${setup.pool == null ? 'no pool (one thread)' :
        `pool of ${setup.pool.threads} threads, ${setup.pool.readyWorkers} workers started`}` +
        (setup.warnings.length ? `; warned: ${setup.warnings.join(' | ')}` : ''));
    if (hardwareConcurrencyOverride != null) {
      console.log(`hardwareConcurrency shown to the page raised to ${hardwareConcurrencyOverride} ` +
          `before tfjs's wasm backend started: it caps XNNPACK's pool at hardwareConcurrency / 2`);
    }
    console.log(`tfjs wasm: ${!setup.tfWasm.started ? `did not start (${setup.tfWasm.error ?? 'setBackend false'})` :
        `${wasmBinary}, getThreadsCount() ${setup.tfWasm.threadsCount}` +
        (!wasmThreaded ? ' — NOT the threaded build: its column is one thread' :
         setup.tfWasm.threadsCount !== threads ?
             ` — NOT ${threads} threads: its column is ${setup.tfWasm.threadsCount}` : '')}`);
    const header = ['layer', 'ours 1 ms', `ours ${threads} ms`, `tf wasm ${threads} ms`,
                    `ours ${threads}/1`, `vs wasm ${threads}`, 'threaded/call', 'max |diff|'];
    const rows: string[][] = [];
    const results: LayerResult[] = [];
    for (const layer of layers) {
      const r = await page.run(benchLayer, {layer, threads, budgetMs,
                                            withWasm: setup.tfWasm.started});
      const ms = Object.fromEntries(SIDES.map(side =>
          [side, r.times[side].length ? median(r.times[side]) : null])) as Record<Side, number | null>;
      const result: LayerResult = {
        name: layer.name, family: layerFamily(layer), flops: layerFlops(layer), ms,
        samples: Object.fromEntries(SIDES.map(side => [side, r.times[side].length])) as
            Record<Side, number>,
        runsPerSample: r.repeats,
        threadSpeedup: ms.ours1! / ms.oursN!,
        ratioVsWasm: ms.tfWasmN == null ? null : ms.tfWasmN / ms.oursN!,
        threadedProducts: r.threadedProducts,
        threadedPerCall: r.calls.oursN ? r.threadedProducts / r.calls.oursN : 0,
        maxAbsDiff: Number.isNaN(r.maxAbsDiff) ? null : r.maxAbsDiff,
      };
      results.push(result);
      const row = [layer.name, fmtMs(ms.ours1!), fmtMs(ms.oursN!),
                   ms.tfWasmN == null ? '—' : fmtMs(ms.tfWasmN), fmtX(result.threadSpeedup),
                   fmtX(result.ratioVsWasm), result.threadedPerCall.toFixed(2),
                   result.maxAbsDiff == null ? '—' : result.maxAbsDiff.toExponential(1)];
      rows.push(row);
      console.log(row.join('  '));
    }
    const vsWasm = results.filter(r => r.ratioVsWasm != null).map(r => r.ratioVsWasm!);
    const summary = {
      threadSpeedup: geomean(results.map(r => r.threadSpeedup)),
      ratioVsWasm: vsWasm.length ? geomean(vsWasm) : null,
      byFamily: Object.fromEntries([...new Set(results.map(r => r.family))].map(family => {
        const members = results.filter(r => r.family === family);
        const ratios = members.filter(r => r.ratioVsWasm != null).map(r => r.ratioVsWasm!);
        return [family, {threadSpeedup: geomean(members.map(r => r.threadSpeedup)),
                         ratioVsWasm: ratios.length ? geomean(ratios) : null}];
      })),
    };
    rows.push(['geomean', '', '', '', fmtX(summary.threadSpeedup), fmtX(summary.ratioVsWasm), '', '']);
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map(row => row[i].length)));
    const line = (cells: string[]) =>
        cells.map((c, i) => i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i])).join('  ');
    console.log('\n' + line(header));
    console.log(widths.map(w => '-'.repeat(w)).join('  '));
    for (const row of rows) console.log(line(row));
    for (const [family, f] of Object.entries(summary.byFamily)) {
      console.log(`  ${family.padEnd(10)} ours ${threads}/1 ${fmtX(f.threadSpeedup)}, ` +
                  `vs tf wasm ${threads} ${fmtX(f.ratioVsWasm)}`);
    }
    console.log(`threaded/call: products that ran on more than one thread ` +
        `(kernelStats().threadedProducts) per ours-${threads} call; vs wasm = tf wasm ms / ` +
        `ours ${threads} ms; max |diff|: ours ${threads} against tf wasm`);
    const out = path.join(process.cwd(), 'bench', 'results', 'cpu-browser.json');
    mkdirSync(path.dirname(out), {recursive: true});
    writeFileSync(out, JSON.stringify({
      date: new Date().toISOString(),
      machine: {cpu: cpus()[0].model, cores: cpus().length, loadAverage: load},
      chromium, ...cores, hardwareConcurrencyOverride, setup, threads, budgetMs,
      tfWasm: {...setup.tfWasm, binary: wasmBinary, threaded: wasmThreaded},
      ours: {threadsRunning: ourThreads},
      layers: results, summary,
    }, null, 2) + '\n');
    console.log(`wrote ${path.relative(process.cwd(), out)}`);
  } finally {
    await page.close();
  }
}

main().catch(error => {
  console.error(error);
  process.exit(1);
});

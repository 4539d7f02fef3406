/**
 * `npm run bench:webgl`: the layer suite (bench/layers.ts) in headless Chromium on tfjs's
 * webgl backend, each layer's op against tfjs's (layerOps) in the same page.
 * Each op: warm-up runs (shader compiles, uploads), then the median of timed samples. A
 * sample is a number of back-to-back calls (the same for both ops, so that it lasts about
 * 100 ms) ending in one `await data()`, so the GPU work is finished: the readback polls its
 * fence in 4 ms timer steps, which alone would swamp the small layers. Prints a table and writes
 * bench/results/webgl.json. Env: BENCH_RUNS (timed runs, default 5), BENCH_LAYERS (comma
 * list of layer names).
 */
import {mkdirSync, writeFileSync} from 'fs';
import * as path from 'path';
import {BENCH_LAYERS, BenchLayer, layerFamily, layerFlops} from './layers';
import {PageGlobals, TfjsPage} from '../test/browser/tfjs_page';

interface LayerResult {
  name: string;
  family: string;
  /** Calls per timed sample; the times are per call. */
  callsPerSample: number;
  oursMs: number;
  tfjsMs: number;
  /** tf time / our time: above 1 means ours is faster. */
  speedup: number;
  oursGflops: number;
  maxAbsDiff: number;
}

/** Page side: times both ops on one layer. */
async function benchLayer({tf, lib, layers}: PageGlobals, arg: {layer: BenchLayer, runs: number}):
    Promise<{ours: number[], tfjs: number[], maxAbsDiff: number, calls: number}> {
  const {layer, runs} = arg;
  const x = tf.randomUniform(layer.input, -1, 1, 'float32', 1);
  const filter = tf.randomUniform(layer.filter, -1, 1, 'float32', 2);
  // The one op table of every bench (bench/layers.ts), bundled into the page.
  const {ours, reference} = (layers as typeof import('./layers')).layerOps(tf, lib, layer, x, filter);
  /** Milliseconds per call of `calls` back-to-back calls, the last one read back. */
  const time = async (op: () => {data(): Promise<unknown>, dispose(): void}, calls = 1) => {
    const start = performance.now();
    for (let i = 1; i < calls; i++) op().dispose();
    const out = op();
    await out.data();
    out.dispose();
    return (performance.now() - start) / calls;
  };
  // Warm-up: compiles, uploads x and the filter, fills the texture pool.
  const a = ours();
  const b = reference();
  const maxAbsDiff = (await tf.max(tf.abs(tf.sub(a, b))).data())[0];
  tf.dispose([a, b]);
  const fastestSingle = async (op: typeof ours) =>
      Math.min(await time(op), await time(op), await time(op));
  const slower = Math.max(await fastestSingle(ours), await fastestSingle(reference));
  const calls = Math.max(1, Math.min(50, Math.round(100 / slower)));
  const timings = {ours: [] as number[], tfjs: [] as number[]};
  for (let i = 0; i < runs; i++) {
    // Alternate, so both see the same machine load.
    timings.ours.push(await time(ours, calls));
    timings.tfjs.push(await time(reference, calls));
  }
  tf.dispose([x, filter]);
  return {...timings, maxAbsDiff, calls};
}

function median(values: number[]): number {
  const sorted = [...values].sort((p, q) => p - q);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

async function main(): Promise<void> {
  const runs = Number(process.env.BENCH_RUNS ?? 5);
  const only = process.env.BENCH_LAYERS?.split(',');
  const layers = BENCH_LAYERS.filter(l => only == null || only.includes(l.name));
  const page = await TfjsPage.open({layers: './bench/layers.ts'});
  try {
    await page.useBackend('webgl');
    const info = await page.webglInfo();
    console.log(`webgl: WEBGL_VERSION ${info.version}, max texture ${info.maxTextureSize}, ` +
                `float32 render ${info.renderFloat32}, renderer ${info.renderer}`);
    const results: LayerResult[] = [];
    const header = ['layer', 'calls', 'ours ms', 'tf ms', 'speedup', 'GFLOP/s', 'max |diff|'];
    console.log(header.map((h, i) => i === 0 ? h.padEnd(14) : h.padStart(12)).join(''));
    for (const layer of layers) {
      const r = await page.run(benchLayer, {layer, runs});
      const oursMs = median(r.ours);
      const tfjsMs = median(r.tfjs);
      const result = {
        name: layer.name, family: layerFamily(layer), callsPerSample: r.calls, oursMs, tfjsMs, speedup: tfjsMs / oursMs,
        oursGflops: layerFlops(layer) / oursMs / 1e6, maxAbsDiff: r.maxAbsDiff,
      };
      results.push(result);
      console.log([layer.name.padEnd(14), String(r.calls).padStart(12), oursMs.toFixed(2).padStart(12),
                   tfjsMs.toFixed(2).padStart(12), `${result.speedup.toFixed(2)}x`.padStart(12),
                   result.oursGflops.toFixed(2).padStart(12),
                   result.maxAbsDiff.toExponential(1).padStart(12)].join(''));
    }
    const mean = (rs: LayerResult[]) => Math.exp(rs.reduce((s, r) => s + Math.log(r.speedup), 0) / rs.length);
    const geomean = mean(results);
    const slowest = results.reduce((m, r) => r.speedup < m.speedup ? r : m, results[0]);
    console.log(`geometric-mean speedup over tfjs's webgl kernels: ${geomean.toFixed(2)}x; ` +
                `lowest ${slowest.speedup.toFixed(2)}x (${slowest.name})`);
    const byFamily = Object.fromEntries([...new Set(results.map(r => r.family))].map(family =>
        [family, mean(results.filter(r => r.family === family))]));
    for (const [family, speedup] of Object.entries(byFamily)) {
      console.log(`  ${family.padEnd(10)} geomean ${speedup.toFixed(2)}x (>= 1.0x ` +
                  `${speedup >= 1 ? 'met' : 'NOT met: useIm2col keeps tfjs\'s kernel'})`);
    }
    const out = path.join(process.cwd(), 'bench', 'results', 'webgl.json');
    mkdirSync(path.dirname(out), {recursive: true});
    writeFileSync(out, JSON.stringify({
      date: new Date().toISOString(), runs, webgl: info, geomeanSpeedup: geomean, byFamily,
      layers: results,
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

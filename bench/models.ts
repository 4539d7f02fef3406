/**
 * `npm run bench:models`: whole tf.layers models (bench/model_zoo.ts: MobileNetV2,
 * ResNet-50, U-Net, C3D, TCN; seeded weights, nothing downloaded), stock tfjs against
 * useIm2col, predict at batch 1 and one training step, on tfjs's cpu backend in this Node
 * process and on tfjs's webgl backend in headless Chromium (test/browser/tfjs_page.ts,
 * SwiftShader where there is no GPU), and on tfjs's wasm backend in this process
 * (XNNPACK, one thread), stock against useIm2col({backends: ['wasm']}), where stock tfjs's
 * training step throws (no Conv2DBackpropFilter on wasm) and is recorded as throwing.
 * Each model, backend and phase is measured in one process, round-robin after warm-up
 * (bench/model_runner.ts); the table gives medians, the
 * speedup (stock / useIm2col), the largest output difference, the kernels that ran on im2col
 * (kernelStats) and, from tf.profile of one predict under useIm2col, how the kernel time
 * splits between conv kernels on im2col, conv kernels still tfjs's and the other kernels.
 * Writes bench/results/models.json after each model, so a long run keeps what it has. Each
 * result carries its run (date, load average, settings); results of models and backends not
 * run this time are kept from the file's earlier runs, so a slow model can be measured on its
 * own (every speedup still comes from one process).
 *
 * Stock tfjs on the cpu is slow on the large models (ResNet-50 and C3D steps take seconds to
 * minutes), hence few rounds by default. Env:
 *   BENCH_MODELS    comma list of mobilenetv2,resnet50,unet,c3d,tcn (default: all)
 *   BENCH_BACKENDS  comma list of cpu,webgl,wasm (default: all three)
 *   BENCH_PHASES    comma list of predict,train (default: both)
 *   BENCH_RUNS      timed rounds per phase, each runs both sides (default 2)
 *   BENCH_WARMUP    untimed runs of each side first (default 1, at least 1)
 *   BENCH_SCALE     full (default) or tiny (the test's small versions: a quick smoke run)
 *   BENCH_PROFILE   0 to skip the tf.profile predict
 *   BENCH_OUT       the JSON file (default bench/results/models.json)
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import {setWasmPaths} from '@tensorflow/tfjs-backend-wasm';
import * as tfl from '@tensorflow/tfjs-layers';
import {existsSync, mkdirSync, readFileSync, writeFileSync} from 'fs';
import * as os from 'os';
import * as path from 'path';
import '../test/helpers/tfjs_gradients';
import {PageGlobals, TfjsPage} from '../test/browser/tfjs_page';
import {benchModel, ModelBenchOptions, ModelBenchResult, Phase} from './model_runner';
import {MODEL_NAMES, ModelName, ModelScale} from './model_zoo';

type Backend = 'cpu' | 'webgl' | 'wasm';

function listEnv<T extends string>(name: string, known: readonly T[],
                                   defaults: readonly T[] = known): T[] {
  const raw = process.env[name];
  if (raw == null || raw.trim() === '') return [...defaults];
  const items = raw.split(',').map(s => s.trim()).filter(Boolean);
  const unknown = items.filter(s => !(known as readonly string[]).includes(s));
  if (unknown.length) throw new Error(`${name}: unknown ${unknown.join(', ')}; known: ${known.join(', ')}`);
  return items as T[];
}

function numberEnv(name: string, fallback: number, min: number): number {
  const raw = process.env[name];
  if (raw == null || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min) {
    throw new Error(`${name} must be an integer >= ${min}, got '${raw}'`);
  }
  return value;
}

const fmtMs = (ms: number | null) => ms == null ? '—' : ms >= 100 ? ms.toFixed(0) : ms.toFixed(1);
const pct = (share: number) => `${(100 * share).toFixed(0)}%`;

/** The im2col kernel counters of a phase, shortest form: `FusedConv2D×52`, backend dropped. */
function callsText(calls: Record<string, number>, backend: string): string {
  const entries = Object.entries(calls).filter(([k]) => k.endsWith(`/${backend}`));
  if (entries.length === 0) return 'none';
  return entries.map(([k, n]) => `${k.slice(0, -backend.length - 1)}×${n}`).join(' ');
}

const COLUMNS: [string, number][] = [
  ['model', 12], ['backend', 8], ['phase', 8], ['stock ms', 10], ['useIm2col ms', 13],
  ['speedup', 9], ['max|diff|', 10], ['rel diff', 9], ['kernels on im2col (one call)', 0]];

function printHeader(): void {
  console.log(COLUMNS.map(([h, w], i) => i < 3 ? h.padEnd(w) : w ? h.padStart(w) : `  ${h}`).join(''));
}

function printRows(r: ModelBenchResult): void {
  for (const p of r.phases) {
    const stock = p.stockError != null ? 'throws' : fmtMs(p.stockMs);
    const ours = p.im2colError != null ? 'throws' : fmtMs(p.im2colMs);
    const cells = [
      r.model, r.backend, p.phase, stock, ours, p.speedup == null ? '—' : `${p.speedup.toFixed(2)}x`,
      p.maxAbsDiff == null ? '—' : p.maxAbsDiff.toExponential(1),
      p.maxAbsDiff == null || !p.maxAbsOutput ? '—' : (p.maxAbsDiff / p.maxAbsOutput).toExponential(1),
      callsText(p.im2colKernelCalls, r.backend)];
    console.log(cells.map((c, i) => {
      const w = COLUMNS[i][1];
      return i < 3 ? c.padEnd(w) : w ? c.padStart(w) : `  ${c}`;
    }).join(''));
    for (const [side, error] of [['stock', p.stockError], ['useIm2col', p.im2colError]]) {
      if (error != null) console.log(`${''.padEnd(28)}${side} threw: ${error}`);
    }
  }
}

function printProfiles(results: ModelBenchResult[]): void {
  const profiled = results.filter(r => r.profile != null);
  if (profiled.length === 0) return;
  console.log('\nwhere one predict under useIm2col spends its kernel time ' +
              '(tf.profile; shares of the kernel sum):');
  console.log(['model'.padEnd(12), 'backend'.padEnd(8), 'wall ms'.padStart(9), 'kernels ms'.padStart(11),
               'conv im2col'.padStart(12), 'conv tfjs'.padStart(10), 'other'.padStart(7),
               '  largest other kernels (ms)'].join(''));
  for (const r of profiled) {
    const p = r.profile!;
    const others = p.kernels.filter(k => k.conv == null).slice(0, 4)
        .map(k => `${k.kernel} ${fmtMs(k.ms)}`).join(', ');
    const tfjsConv = p.kernels.filter(k => k.conv === 'tfjs').map(k => `${k.kernel}×${k.calls}`).join(' ');
    console.log([r.model.padEnd(12), r.backend.padEnd(8), fmtMs(p.wallMs).padStart(9),
                 fmtMs(p.kernelMs).padStart(11), pct(p.convIm2colShare).padStart(12),
                 pct(p.convTfjsShare).padStart(10), pct(p.otherShare).padStart(7), `  ${others}`].join(''));
    if (tfjsConv) console.log(`${''.padEnd(20)}conv kernels still tfjs's: ${tfjsConv}`);
  }
}

/** Page side: the same runner, in Chromium, on the page's current backend. */
async function benchInPage({runner}: PageGlobals, options: ModelBenchOptions): Promise<ModelBenchResult> {
  return runner.benchModel(options);
}

async function main(): Promise<void> {
  const models = listEnv<ModelName>('BENCH_MODELS', MODEL_NAMES);
  const backends = listEnv<Backend>('BENCH_BACKENDS', ['cpu', 'webgl', 'wasm'], ['cpu', 'wasm', 'webgl']);
  const phases = listEnv<Phase>('BENCH_PHASES', ['predict', 'train']);
  const scale = listEnv<ModelScale>('BENCH_SCALE', ['full', 'tiny'])[0];
  const runs = numberEnv('BENCH_RUNS', 2, 1);
  const warmups = numberEnv('BENCH_WARMUP', 1, 1);
  const profile = process.env.BENCH_PROFILE !== '0';
  const out = path.resolve(process.env.BENCH_OUT ?? path.join('bench', 'results', 'models.json'));

  const started = new Date();
  const results: ModelBenchResult[] = [];
  const saved: (ModelBenchResult & {run: Record<string, unknown>})[] = [];
  const meta: Record<string, unknown> = {
    date: started.toISOString(), node: process.version, tfjs: tf.version_core,
    tfjsLayers: tfl.version_layers,
    cpu: `${os.cpus()[0]?.model ?? 'unknown'} (${os.cpus().length} cores)`,
    loadAverageAtStart: os.loadavg().map(l => Number(l.toFixed(2))),
    settings: {models, backends, phases, scale, runs, warmups, profile},
    method: 'medians of BENCH_RUNS rounds after BENCH_WARMUP warm-up runs per side, sides ' +
        'alternating in one process; useIm2col side = useIm2col() (on wasm ' +
        "useIm2col({backends: ['wasm']})), the call, restore(); " +
        'predict = model.predict(batch 1) + readback; train = model.trainOnBatch(batch 1, ' +
        'meanSquaredError, sgd 1e-4) + loss readback',
  };
  const key = (r: ModelBenchResult) => `${r.model}/${r.backend}/${r.scale}`;
  let earlier: {results?: (ModelBenchResult & {run: unknown})[]} = {};
  try {
    if (existsSync(out)) earlier = JSON.parse(readFileSync(out, 'utf8'));
  } catch {
    console.log(`${out} is not JSON: starting it again`);
  }
  /** Adds a result with its run's description, then writes this run's and earlier results. */
  const save = (r: ModelBenchResult) => {
    results.push(r);
    saved.push({...r, run: {...meta, loadAverageAfter: os.loadavg().map(l => Number(l.toFixed(2)))}});
    const now = new Set(saved.map(key));
    const kept = (earlier.results ?? []).filter(e => e.run != null && !now.has(key(e)));
    mkdirSync(path.dirname(out), {recursive: true});
    writeFileSync(out, JSON.stringify({
      updated: new Date().toISOString(),
      note: 'each result was measured in one process (its run); speedup = stock ms / useIm2col ms',
      results: [...kept, ...saved],
    }, null, 2) + '\n');
  };
  console.log(`models ${models.join(', ')} (${scale}); backends ${backends.join(', ')}; phases ` +
              `${phases.join(', ')}; ${warmups} warm-up + ${runs} timed rounds; load average ` +
              `${os.loadavg().map(l => l.toFixed(2)).join(' ')}`);
  const options = (model: ModelName): ModelBenchOptions =>
      ({model, scale, phases, runs, warmups, profile, verbose: true});

  if (backends.includes('cpu')) {
    await tf.setBackend('cpu');
    for (const model of models) {
      const r = await benchModel(options(model));
      save(r);
      printHeader();
      printRows(r);
    }
  }
  if (backends.includes('wasm')) {
    // As bench/cpu.ts: the .wasm files from node_modules, one thread.
    setWasmPaths(path.join(path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm')), '/'));
    tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
    await tf.setBackend('wasm');
    for (const model of models) {
      // useIm2col() leaves wasm to tfjs: the switch has to name it.
      const r = await benchModel({...options(model), switchBackends: ['wasm']});
      save(r);
      printHeader();
      printRows(r);
    }
  }
  if (backends.includes('webgl')) {
    const page = await TfjsPage.open({
      tfl: '@tensorflow/tfjs-layers',
      tfjsGradients: '@tensorflow/tfjs-core/dist/register_all_gradients',
      runner: './bench/model_runner.ts',
    });
    page.page.on('console', message => {
      if (message.type() === 'log') console.log(message.text());
    });
    try {
      await page.useBackend('webgl');
      const info = await page.webglInfo();
      meta.webgl = info;
      console.log(`webgl: WEBGL_VERSION ${info.version}, max texture ${info.maxTextureSize}, ` +
                  `float32 render ${info.renderFloat32}, renderer ${info.renderer}`);
      for (const model of models) {
        const r = await page.run(benchInPage, options(model));
        save(r);
        printHeader();
        printRows(r);
      }
    } finally {
      await page.close();
    }
  }

  console.log(`\n${models.length} models, ${((Date.now() - started.getTime()) / 1000).toFixed(0)} s; ` +
              `load average now ${os.loadavg().map(l => l.toFixed(2)).join(' ')}`);
  printHeader();
  for (const r of results) printRows(r);
  printProfiles(results);
  console.log(`wrote ${path.relative(process.cwd(), out)}`);
}

main().catch(error => {
  console.error(error);
  process.exit(1);
});

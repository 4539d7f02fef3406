/**
 * The benchmark panel: a few layers of the speed suite (bench/layers.ts), small enough for a
 * software-rendered WebGL, timed on the active backend for im2colConv2d and tf.conv2d in the
 * same run, drawn as a grouped bar chart (SVG, log-scale time axis).
 */
import * as tf from '@tensorflow/tfjs-core';
import {BENCH_LAYERS, BenchLayer, layerFlops} from '../../bench/layers';
import {im2colConv2d} from '../../src';

const PANEL_LAYERS: BenchLayer[] =
    ['article-2', 'pointwise', 'dilated', 'resnet-deep'].map(name => {
      const layer = BENCH_LAYERS.find(l => l.name === name);
      if (!layer || layer.kind !== 'conv2d') throw new Error(`no conv2d bench layer '${name}'`);
      return layer;
    });

const WARMUP_RUNS = 1;
const SAMPLES = 3;
/** A sample repeats the op until this much time has passed: browsers coarsen timers to ~0.1 ms. */
const MIN_SAMPLE_MS = 20;

export interface BenchRow {
  layer: BenchLayer;
  /** Median milliseconds per run, including reading the result back. */
  oursMs: number;
  tfMs: number;
}

async function runOnce(run: () => tf.Tensor): Promise<void> {
  const result = run();
  await result.data();
  result.dispose();
}

async function medianMs(run: () => tf.Tensor): Promise<number> {
  for (let i = 0; i < WARMUP_RUNS; i++) await runOnce(run);
  const samples: number[] = [];
  for (let i = 0; i < SAMPLES; i++) {
    const start = performance.now();
    let runs = 0;
    while (performance.now() - start < MIN_SAMPLE_MS || runs === 0) {
      await runOnce(run);
      runs++;
    }
    samples.push((performance.now() - start) / runs);
  }
  samples.sort((a, b) => a - b);
  return samples[Math.floor(samples.length / 2)];
}

function formatFlops(flops: number): string {
  const [unit, scale] = flops >= 1e9 ? ['GFLOP', 1e9] : flops >= 1e6 ? ['MFLOP', 1e6] : ['kFLOP', 1e3];
  return `${Number((flops / scale).toPrecision(3))} ${unit}`;
}

/** Times each panel layer on the active backend; `onRow` sees each result as it comes. */
export async function runBench(onRow: (row: BenchRow) => void): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  for (const layer of PANEL_LAYERS) {
    const x = tf.randomUniform(layer.input, -1, 1) as tf.Tensor as tf.Tensor4D;
    const filter = tf.randomUniform(layer.filter, -1, 1) as tf.Tensor as tf.Tensor4D;
    const {stride, pad, dilation} = layer;
    try {
      const oursMs = await medianMs(() => im2colConv2d(x, filter, stride, pad, 'NHWC', dilation));
      const tfMs = await medianMs(() => tf.conv2d(x, filter, stride, pad, 'NHWC', dilation));
      const row = {layer, oursMs, tfMs};
      rows.push(row);
      onRow(row);
    } finally {
      tf.dispose([x, filter]);
    }
  }
  return rows;
}

const SVG_NS = 'http://www.w3.org/2000/svg';

function svg<K extends keyof SVGElementTagNameMap>(tag: K, attrs: Record<string, string | number>,
                                                   text?: string): SVGElementTagNameMap[K] {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, String(value));
  if (text != null) node.textContent = text;
  return node;
}

const SERIES = [
  {key: 'oursMs', label: 'im2colConv2d (this package)', color: '#1f6feb'},
  {key: 'tfMs', label: 'tf.conv2d', color: '#d97706'},
] as const;

/** Horizontal grouped bars, one group per layer, time on a log axis (layers differ by 1000x). */
export function benchChart(rows: BenchRow[], backend: string): SVGSVGElement {
  const left = 150, right = 170, top = 56, bottom = 56, barHeight = 16, groupGap = 18;
  const plotWidth = 520;
  const height = top + bottom + rows.length * (2 * barHeight + groupGap);
  const chart = svg('svg', {
    width: left + plotWidth + right, height, role: 'img', class: 'bench-chart',
    'aria-label': `milliseconds per run on ${backend}`,
  });
  const times = rows.flatMap(r => [r.oursMs, r.tfMs]).filter(t => t > 0);
  const lo = Math.pow(10, Math.floor(Math.log10(Math.min(...times))));
  const hi = Math.pow(10, Math.ceil(Math.log10(Math.max(...times))));
  const xOf = (ms: number) => left + plotWidth * Math.log10(Math.max(ms, lo) / lo) /
      Math.max(1e-9, Math.log10(hi / lo));
  const plotBottom = height - bottom;

  for (let tick = lo; tick <= hi * 1.0001; tick *= 10) {
    const x = xOf(tick);
    chart.append(svg('line', {x1: x, x2: x, y1: top - 6, y2: plotBottom, class: 'grid-line'}));
    chart.append(svg('text', {x, y: plotBottom + 18, 'text-anchor': 'middle', class: 'tick'},
                     tick >= 1 ? String(tick) : String(Number(tick.toPrecision(1)))));
  }
  chart.append(svg('text', {x: left + plotWidth / 2, y: plotBottom + 42, 'text-anchor': 'middle',
                            class: 'axis-label'},
                   `milliseconds per run on ${backend} (log scale, shorter is faster)`));
  chart.append(svg('line', {x1: left, x2: left, y1: top - 6, y2: plotBottom, class: 'axis'}));
  SERIES.forEach((series, i) => {
    const x = left + i * 230;
    chart.append(svg('rect', {x, y: 10, width: 12, height: 12, fill: series.color}));
    chart.append(svg('text', {x: x + 18, y: 21, class: 'legend'}, series.label));
  });

  chart.append(svg('text', {x: left + plotWidth + right - 4, y: top - 14, 'text-anchor': 'end',
                            class: 'legend'}, 'tf.conv2d ÷ ours'));
  chart.append(svg('text', {x: left + plotWidth + right - 4, y: top, 'text-anchor': 'end',
                            class: 'tick'}, '(above 1: ours faster)'));
  rows.forEach((row, g) => {
    const y0 = top + g * (2 * barHeight + groupGap);
    chart.append(svg('text', {x: left - 10, y: y0 + barHeight + 4, 'text-anchor': 'end',
                              class: 'layer-label'}, row.layer.name));
    chart.append(svg('text', {x: left - 10, y: y0 + barHeight + 18, 'text-anchor': 'end',
                              class: 'layer-sub'}, formatFlops(layerFlops(row.layer))));
    SERIES.forEach((series, i) => {
      const ms = row[series.key];
      const y = y0 + i * barHeight;
      const bar = svg('rect', {x: left, y, width: Math.max(1, xOf(ms) - left), height: barHeight - 2,
                               fill: series.color, class: 'bar'});
      bar.dataset.layer = row.layer.name;
      bar.dataset.series = series.key;
      chart.append(bar);
      chart.append(svg('text', {x: xOf(ms) + 6, y: y + barHeight - 5, class: 'bar-value'},
                       `${Number(ms.toPrecision(3))} ms`));
    });
    chart.append(svg('text', {x: left + plotWidth + right - 4, y: y0 + barHeight + 4,
                              'text-anchor': 'end', class: 'ratio'},
                     `${(row.tfMs / row.oursMs).toFixed(2)}×`));
  });
  return chart;
}

/**
 * Draws a DemoResult: the padded input with each patch's colour, P, K, K·P and the output,
 * as tables whose cells carry data-row / data-col (and data-patch where a cell belongs to
 * one patch), so that hovering or clicking any of them highlights the same patch everywhere.
 */
import {DemoResult} from './compute';

/** Larger matrices and grids are cut to this many rows / columns, with a note saying so. */
const MAX_ROWS = 24;
const MAX_COLS = 16;
const MAX_GRID = 20;
const MAX_CHANNELS_SHOWN = 4;
const MAX_DOTS = 9;

/** Patch j's colour: hues a golden angle apart, so neighbouring patches differ clearly. */
function patchColor(j: number, alpha = 1): string {
  return `hsla(${Math.round((j * 137.508) % 360)}, 70%, 45%, ${alpha})`;
}

function el<K extends keyof HTMLElementTagNameMap>(tag: K, className?: string, text?: string):
    HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text != null) node.textContent = text;
  return node;
}

function formatNumber(v: number): string {
  if (Number.isInteger(v)) return String(v);
  return String(Number(v.toPrecision(5)));
}

function figure(title: string, subtitle: string): {fig: HTMLElement, body: HTMLElement} {
  const fig = el('figure', 'matrix-figure');
  const caption = el('figcaption');
  caption.append(el('span', 'title', title), el('span', 'subtitle', subtitle));
  const body = el('div', 'figure-body');
  fig.append(caption, body);
  return {fig, body};
}

function truncationNote(shown: number, total: number, what: string): string {
  return shown < total ? `showing ${shown} of ${total} ${what}` : '';
}

interface MatrixOptions {
  name: string;
  rowLabel: (i: number) => string;
  colLabel: (j: number) => string;
  /** Says what the rows and the columns are, in the corner cell. */
  corner: string;
  /** Columns are patches (P, K·P): tint each with its patch's colour. */
  patchColumns: boolean;
}

/** A labelled matrix as a table, cut to MAX_ROWS x MAX_COLS. */
function matrixTable(m: number[][], options: MatrixOptions): HTMLElement {
  const rows = m.length;
  const cols = m[0]?.length ?? 0;
  const shownRows = Math.min(rows, MAX_ROWS);
  const shownCols = Math.min(cols, MAX_COLS);
  const table = el('table', 'matrix');
  table.dataset.matrix = options.name;
  table.dataset.rows = String(rows);
  table.dataset.cols = String(cols);
  const head = table.createTHead().insertRow();
  head.append(el('th', 'corner', options.corner));
  for (let j = 0; j < shownCols; j++) {
    const th = el('th', 'col-label', options.colLabel(j));
    if (options.patchColumns) {
      th.dataset.patch = String(j);
      th.style.setProperty('--patch', patchColor(j));
      th.classList.add('patch-head');
    }
    head.append(th);
  }
  if (shownCols < cols) head.append(el('th', 'more', `… +${cols - shownCols}`));
  const body = table.createTBody();
  for (let i = 0; i < shownRows; i++) {
    const tr = body.insertRow();
    tr.append(el('th', 'row-label', options.rowLabel(i)));
    for (let j = 0; j < shownCols; j++) {
      const td = el('td', undefined, formatNumber(m[i][j]));
      td.dataset.row = String(i);
      td.dataset.col = String(j);
      if (options.patchColumns) {
        td.dataset.patch = String(j);
        td.style.setProperty('--tint', patchColor(j, 0.13));
        td.style.setProperty('--patch', patchColor(j));
      }
      tr.append(td);
    }
    if (shownCols < cols) tr.append(el('td', 'more', '…'));
  }
  if (shownRows < rows) {
    const tr = body.insertRow();
    const td = el('td', 'more', `⋮ ${rows - shownRows} more rows`);
    td.colSpan = shownCols + 2;
    tr.append(td);
  }
  return table;
}

function withNote(table: HTMLElement, notes: string[]): HTMLElement {
  const wrap = el('div', 'scroll');
  wrap.append(table);
  const text = notes.filter(Boolean).join('; ');
  if (text) wrap.append(el('p', 'note', text));
  return wrap;
}

/** P's row i in the article's order (channel, kh, kw). */
function tapLabel(r: DemoResult, i: number): string {
  const {kernelHeight, kernelWidth, dims} = r.settings;
  const taps = kernelHeight * kernelWidth;
  const c = Math.floor(i / taps);
  const kh = Math.floor((i % taps) / kernelWidth);
  const kw = i % kernelWidth;
  return dims === 2 ? `c${c} (${kh},${kw})` : `c${c} k${kw}`;
}

function patchLabel(r: DemoResult, j: number): string {
  const outWidth = r.output[0].length;
  return r.settings.dims === 2 ? `${Math.floor(j / outWidth)},${j % outWidth}` : `t${j}`;
}

/** The padded input, one grid per channel; each cell lists the patches that read it as dots. */
function inputView(r: DemoResult): {node: HTMLElement, cellsOfPatch: HTMLElement[][]} {
  const {padded, patchCells, x} = r;
  const patchesOfCell: number[][] = Array.from({length: padded.height * padded.width}, () => []);
  patchCells.forEach((cells, j) => cells.forEach(cell => patchesOfCell[cell].push(j)));
  const cellsOfPatch: HTMLElement[][] = patchCells.map(() => []);
  const channels = r.settings.channels;
  const shownChannels = Math.min(channels, MAX_CHANNELS_SHOWN);
  const shownHeight = Math.min(padded.height, MAX_GRID);
  const shownWidth = Math.min(padded.width, MAX_GRID);
  const grids = el('div', 'grids');
  for (let c = 0; c < shownChannels; c++) {
    const box = el('div', 'grid-box');
    box.append(el('div', 'grid-title', `channel ${c}`));
    const table = el('table', shownWidth > 8 ? 'grid input-grid compact' : 'grid input-grid');
    table.dataset.matrix = `X-${c}`;
    for (let h = 0; h < shownHeight; h++) {
      const tr = table.insertRow();
      for (let w = 0; w < shownWidth; w++) {
        const inH = h - padded.top;
        const inW = w - padded.left;
        const inside = inH >= 0 && inH < r.settings.height && inW >= 0 && inW < r.settings.width;
        const td = el('td', inside ? undefined : 'pad');
        td.append(el('span', 'value', inside ? formatNumber(x[inH][inW][c]) : '0'));
        const patches = patchesOfCell[h * padded.width + w];
        const dots = el('span', 'dots');
        for (const j of patches.slice(0, MAX_DOTS)) {
          const dot = el('i', 'dot');
          dot.style.background = patchColor(j);
          dots.append(dot);
        }
        if (patches.length > MAX_DOTS) dots.append(el('span', 'dots-more', `+${patches.length - MAX_DOTS}`));
        td.append(dots);
        for (const j of patches) cellsOfPatch[j].push(td);
        tr.append(td);
      }
    }
    box.append(table);
    grids.append(box);
  }
  const notes = [
    truncationNote(shownChannels, channels, 'channels'),
    truncationNote(shownHeight, padded.height, 'rows'),
    truncationNote(shownWidth, padded.width, 'columns'),
    padded.height > r.settings.height || padded.width > r.settings.width ?
        'grey cells are zero padding' : '',
  ];
  const wrap = withNote(grids, notes);
  return {node: wrap, cellsOfPatch};
}

/** The output folded back to [outHeight, outWidth], one grid per filter. */
function outputView(r: DemoResult): HTMLElement {
  const outHeight = r.output.length;
  const outWidth = r.output[0].length;
  const filters = r.settings.filters;
  const shownFilters = Math.min(filters, MAX_CHANNELS_SHOWN);
  const grids = el('div', 'grids');
  for (let o = 0; o < shownFilters; o++) {
    const box = el('div', 'grid-box');
    box.append(el('div', 'grid-title', `filter ${o}`));
    const table = el('table', 'grid output-grid');
    table.dataset.matrix = `out-${o}`;
    for (let h = 0; h < Math.min(outHeight, MAX_GRID); h++) {
      const tr = table.insertRow();
      for (let w = 0; w < Math.min(outWidth, MAX_GRID); w++) {
        const j = h * outWidth + w;
        const td = el('td', undefined, formatNumber(r.output[h][w][o]));
        td.dataset.row = String(h);
        td.dataset.col = String(w);
        td.dataset.patch = String(j);
        td.style.setProperty('--tint', patchColor(j, 0.13));
        td.style.setProperty('--patch', patchColor(j));
        tr.append(td);
      }
    }
    box.append(table);
    grids.append(box);
  }
  return withNote(grids, [
    truncationNote(shownFilters, filters, 'filters'),
    truncationNote(Math.min(outHeight, MAX_GRID), outHeight, 'rows'),
    truncationNote(Math.min(outWidth, MAX_GRID), outWidth, 'columns'),
  ]);
}

/** Renders the result into `root` and wires the patch highlighting. */
export function renderResult(root: HTMLElement, r: DemoResult): void {
  root.replaceChildren();
  const {settings: s} = r;
  const patches = r.patchCells.length;
  const outHeight = r.output.length;
  const outWidth = r.output[0].length;
  const taps = s.channels * s.kernelHeight * s.kernelWidth;

  const input = inputView(r);
  const x = figure('X: the input',
      `${s.dims === 2 ? `${s.height}×${s.width}` : `length ${s.width}`}, ${s.channels} channel${s.channels > 1 ? 's' : ''}` +
      ` · dots: the patches that read each cell`);
  x.body.append(input.node);

  const p = figure(`P: the patch matrix, ${taps}×${patches}`,
      `one column per patch (output position); rows: channel, then kernel tap` +
      (s.dims === 2 ? ' (kh,kw)' : ''));
  p.body.append(withNote(matrixTable(r.P, {
    name: 'P', corner: 'tap \\ patch', rowLabel: i => tapLabel(r, i), colLabel: j => patchLabel(r, j), patchColumns: true,
  }), [truncationNote(Math.min(taps, MAX_ROWS), taps, 'rows'),
       truncationNote(Math.min(patches, MAX_COLS), patches, 'columns')]));

  const k = figure(`K: the flattened filters, ${s.filters}×${taps}`,
      'one row per filter, same order as the rows of P');
  k.body.append(withNote(matrixTable(r.K, {
    name: 'K', corner: 'filter \\ tap', rowLabel: o => `filter ${o}`, colLabel: i => tapLabel(r, i), patchColumns: false,
  }), [truncationNote(Math.min(taps, MAX_COLS), taps, 'columns')]));

  const kp = figure(`K·P: every output value, ${s.filters}×${patches}`,
      'row: filter (output channel), column: patch (output position)');
  kp.body.append(withNote(matrixTable(r.KP, {
    name: 'KP', corner: 'filter \\ patch', rowLabel: o => `filter ${o}`, colLabel: j => patchLabel(r, j), patchColumns: true,
  }), [truncationNote(Math.min(patches, MAX_COLS), patches, 'columns')]));

  const out = figure(`The output, ${s.dims === 2 ? `${outHeight}×${outWidth}` : outWidth}×${s.filters}`,
      'K·P reshaped: each row of K·P folded back to the output size');
  out.body.append(outputView(r));

  const top = el('div', 'figure-row');
  top.append(x.fig, p.fig);
  const bottom = el('div', 'figure-row');
  bottom.append(k.fig, kp.fig, out.fig);
  root.append(top, bottom);
  wireHighlight(root, input.cellsOfPatch);
}

/**
 * Hover highlights a patch; a click pins it until another click. The listeners are installed
 * once per root and read the latest rendering's cells.
 */
interface HighlightState {
  cellsOfPatch: HTMLElement[][];
  pinned: number | null;
  shown: number | null;
}
const highlightStates = new WeakMap<HTMLElement, HighlightState>();

function wireHighlight(root: HTMLElement, cellsOfPatch: HTMLElement[][]): void {
  const existing = highlightStates.get(root);
  if (existing) {
    Object.assign(existing, {cellsOfPatch, pinned: null, shown: null});
    return;
  }
  const state: HighlightState = {cellsOfPatch, pinned: null, shown: null};
  highlightStates.set(root, state);
  const show = (j: number | null) => {
    if (state.shown === j) return;
    root.querySelectorAll('.active').forEach(node => node.classList.remove('active'));
    state.shown = j;
    if (j == null) return;
    root.querySelectorAll(`[data-patch="${j}"]`).forEach(node => node.classList.add('active'));
    for (const cell of state.cellsOfPatch[j]) {
      cell.classList.add('active');
      cell.style.setProperty('--patch', patchColor(j));
    }
  };
  const patchOf = (event: Event): number | null => {
    const node = (event.target as HTMLElement).closest<HTMLElement>('[data-patch]');
    return node ? Number(node.dataset.patch) : null;
  };
  root.addEventListener('mouseover', event => show(patchOf(event) ?? state.pinned));
  root.addEventListener('mouseleave', () => show(state.pinned));
  root.addEventListener('click', event => {
    const j = patchOf(event);
    state.pinned = j === state.pinned ? null : j;
    show(state.pinned);
  });
}

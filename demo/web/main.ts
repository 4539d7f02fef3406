/**
 * The demo page: wires the controls, presets and backend switch to compute() and the
 * renderers. The page runs on this package from src/ with tfjs-core and both backends.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-webgl';
import '../../src';
import {benchChart, BenchRow, runBench} from './bench';
import {Check, compute} from './compute';
import {renderResult} from './render';
import {Padding, PRESETS, Settings} from './settings';

const form = document.getElementById('settings') as HTMLFormElement;
const status = document.getElementById('status') as HTMLElement;
const checkLine = document.getElementById('check') as HTMLElement;
const explanation = document.getElementById('explanation') as HTMLElement;
const presetBar = document.getElementById('presets') as HTMLElement;
const presetTitle = document.getElementById('preset-title') as HTMLElement;

const NUMBER_FIELDS = ['height', 'width', 'channels', 'filters', 'kernelHeight', 'kernelWidth',
                       'stride', 'dilation'] as const;

function field(name: string): HTMLInputElement | HTMLSelectElement {
  return form.elements.namedItem(name) as HTMLInputElement | HTMLSelectElement;
}

function readSettings(): Settings {
  const dims = field('dims').value === '1' ? 1 : 2;
  const values = Object.fromEntries(NUMBER_FIELDS.map(name => [name, Number(field(name).value)])) as
      Record<typeof NUMBER_FIELDS[number], number>;
  const padMode = field('padMode').value;
  const pad: Padding = padMode === 'number' ? Number(field('padNumber').value) : padMode as Padding;
  return dims === 2 ? {dims, ...values, pad} :
                      {dims, ...values, height: 1, kernelHeight: 1, pad};
}

function writeSettings(s: Settings): void {
  field('dims').value = String(s.dims);
  for (const name of NUMBER_FIELDS) field(name).value = String(s[name]);
  field('padMode').value = typeof s.pad === 'number' ? 'number' : s.pad;
  field('padNumber').value = String(typeof s.pad === 'number' ? s.pad : 1);
  showRelevantFields(s);
}

function showRelevantFields(s: Settings): void {
  form.classList.toggle('is-1d', s.dims === 1);
  form.classList.toggle('pad-is-number', typeof s.pad === 'number');
}

function setStatus(state: 'busy' | 'ready' | 'error', text: string): void {
  status.dataset.state = state;
  status.dataset.backend = tf.getBackend();
  status.textContent = text;
}

function checkText(check: Check, s: Settings): string {
  const op = s.dims === 2 ? 'im2colConv2d' : 'im2colConv1d';
  const outcome = check.verdict === 'match' ?
      `✓ The output of ${op} matches` : `✗ The output of ${op} DIFFERS from`;
  const difference = `(largest difference ${check.maxAbsDiff})`;
  if (check.refusal != null) {
    const [strideHeight, strideWidth] = check.subsampling!;
    const every = s.dims === 2 ? `${strideHeight}×${strideWidth}` : `${strideWidth}`;
    return `tf.conv2d refuses these settings (“${check.refusal}”). ${outcome} the stride-1 ` +
        `dilated tf.conv2d, keeping the outputs at multiples of the stride (${every}) ${difference}.`;
  }
  return `${outcome} ${s.dims === 2 ? 'tf.conv2d' : 'tf.conv2d (as a height-1 image)'} ${difference}.`;
}

let selectedPreset: number | null = null;

/** A field outside its min/max (typed in), named by its label; the page stays small enough to draw. */
function outOfRangeField(): string | null {
  for (const input of Array.from(form.querySelectorAll<HTMLInputElement>('input[type=number]'))) {
    if (input.offsetParent !== null && !input.checkValidity()) {
      return `${input.parentElement!.textContent!.trim()}: ${input.validationMessage}`;
    }
  }
  return null;
}

function update(): void {
  const s = readSettings();
  showRelevantFields(s);
  presetBar.querySelectorAll('button').forEach(
      (b, i) => b.classList.toggle('selected', i === selectedPreset));
  status.dataset.preset = selectedPreset == null ? 'custom' : String(selectedPreset);
  presetTitle.textContent = selectedPreset == null ? 'Your settings' : PRESETS[selectedPreset].title;
  setStatus('busy', 'computing…');
  const outOfRange = outOfRangeField();
  try {
    if (outOfRange) throw new Error(outOfRange);
    const result = compute(s);
    renderResult(explanation, result);
    checkLine.dataset.verdict = result.check.verdict;
    checkLine.dataset.refused = String(result.check.refusal != null);
    checkLine.textContent = checkText(result.check, s);
    // Lets the page (and its test) see that recomputing leaks no tensors.
    status.dataset.tensors = String(tf.memory().numTensors);
    setStatus('ready', `computed on the ${result.backend} backend`);
  } catch (error) {
    explanation.replaceChildren();
    checkLine.dataset.verdict = 'error';
    checkLine.textContent = '';
    setStatus('error', (error as Error).message);
  }
}

async function switchBackend(name: string): Promise<void> {
  setStatus('busy', `starting the ${name} backend…`);
  const ok = await tf.setBackend(name).catch(() => false);
  if (!ok) {
    setStatus('error', `The ${name} backend could not start in this browser.`);
    return;
  }
  update();
}

PRESETS.forEach((preset, i) => {
  const button = document.createElement('button');
  button.type = 'button';
  button.dataset.preset = String(i);
  button.textContent = preset.title.split(/[:(]/)[0].trim();
  button.title = preset.title;
  button.addEventListener('click', () => {
    selectedPreset = i;
    writeSettings(preset.settings);
    update();
  });
  presetBar.append(button);
});

form.addEventListener('input', event => {
  if ((event.target as HTMLElement).id === 'backend') return;
  selectedPreset = null;
  update();
});
field('backend').addEventListener('change', () => void switchBackend(field('backend').value));

const benchButton = document.getElementById('run-bench') as HTMLButtonElement;
const benchStatus = document.getElementById('bench-status') as HTMLElement;
const benchChartBox = document.getElementById('bench-chart') as HTMLElement;
benchButton.addEventListener('click', async () => {
  benchButton.disabled = true;
  const backend = tf.getBackend();
  benchStatus.dataset.state = 'busy';
  benchStatus.textContent = `running on ${backend}…`;
  const rows: BenchRow[] = [];
  try {
    await runBench(row => {
      rows.push(row);
      benchChartBox.replaceChildren(benchChart(rows, backend));
    });
    benchStatus.dataset.state = 'ready';
    benchStatus.textContent = `done on ${backend}`;
  } catch (error) {
    benchStatus.dataset.state = 'error';
    benchStatus.textContent = (error as Error).message;
  } finally {
    benchButton.disabled = false;
  }
});

async function start(): Promise<void> {
  await tf.setBackend('cpu');
  field('backend').value = 'cpu';
  selectedPreset = 0;
  writeSettings(PRESETS[0].settings);
  update();
}
void start();

/**
 * The demo page end to end in headless Chromium: `scripts/demo-web.js` serves it, each article
 * preset is selected, and the rendered P, K, K·P and output cells are compared with the seed's
 * values (test/helpers/article.ts; P of Example 2 and of the second reading of Example 3 from
 * a naive loop here), on cpu and again on webgl. Hovering a patch must light up exactly that
 * patch's input cells. Any console error fails. A screenshot per preset and backend goes to
 * test-output/demo-page/.
 */
import {ChildProcess, spawn} from 'child_process';
import {mkdirSync} from 'fs';
import path from 'path';
import type {Browser, Page} from 'playwright-core';
import {example1, example2, example3, range} from '../helpers/article';
import {launchChromium} from './chromium';

const root = path.join(__dirname, '..', '..');
const screenshotDir = path.join(root, 'test-output', 'demo-page');

interface PresetExpectation {
  name: string;
  P: number[][];
  K: number[][];
  KP: number[][];
  /** One [outHeight][outWidth] grid per filter. */
  output: number[][][];
  /** tf.conv2d refuses stride 2 with dilation 2: the page checks the subsampled dilated conv. */
  refused: boolean;
}

/** K·P row o folded to [outHeight][outWidth]: the page's output grids. */
function fold(KP: number[][], outWidth: number): number[][][] {
  return KP.map(row => range(row.length / outWidth).map(h => row.slice(h * outWidth, (h + 1) * outWidth)));
}

const PRESETS: PresetExpectation[] = [
  {name: 'example-1', P: example1.P, K: example1.K, KP: example1.KP, output: fold(example1.KP, 3),
   refused: false},
  {name: 'example-2',
   // Rows (c, kh, kw), columns patches (oh, ow) over the 3x3 output.
   P: range(3).flatMap(c => range(2).flatMap(kh => range(2).map(kw => range(9).map(
       j => example2.x[Math.floor(j / 3) + kh][j % 3 + kw][c])))),
   K: example2.K, KP: example2.KP, output: fold(example2.KP, 3), refused: false},
  {name: 'example-3', P: example3.P, K: example3.K, KP: example3.KP,
   output: range(2).map(o => [example3.output.map(position => position[o])]), refused: true},
  {name: 'example-3-unpadded',
   P: range(3).flatMap(c => range(4).map(k => range(5).map(j => example3.x[2 * j + k][c]))),
   K: example3.K, KP: example3.unpaddedKP, output: fold(example3.unpaddedKP, 5), refused: false},
];

let server: ChildProcess;
let browser: Browser;
let page: Page;
let url: string;
const consoleErrors: string[] = [];

function startServer(): Promise<string> {
  server = spawn(process.execPath, [path.join(root, 'scripts', 'demo-web.js'), '--port', '0'],
                 {cwd: root, stdio: ['ignore', 'pipe', 'inherit']});
  return new Promise((resolve, reject) => {
    let out = '';
    server.stdout!.on('data', chunk => {
      out += chunk;
      const found = out.match(/http:\/\/127\.0\.0\.1:\d+\//);
      if (found) resolve(found[0]);
    });
    server.on('exit', code => reject(new Error(`demo server exited (${code}) before printing its URL`)));
  });
}

beforeAll(async () => {
  mkdirSync(screenshotDir, {recursive: true});
  url = await startServer();
  browser = await launchChromium();
  page = await browser.newPage({viewport: {width: 1440, height: 1000}});
  page.on('console', message => {
    if (message.type() === 'error') consoleErrors.push(message.text());
  });
  page.on('pageerror', error => consoleErrors.push(String(error)));
  await page.goto(url);
  await page.waitForSelector('#status[data-state="ready"]');
});

afterAll(async () => {
  await browser?.close();
  server?.kill();
});

afterEach(() => {
  expect(consoleErrors).toEqual([]);
});

/** The numbers of a rendered matrix or grid, by data-row / data-col. */
async function readCells(selector: string): Promise<number[][]> {
  const cells = await page.$$eval(`${selector} td[data-row]`, nodes => nodes.map(node => [
    Number((node as HTMLElement).dataset.row), Number((node as HTMLElement).dataset.col),
    Number(node.textContent)]));
  const rows: number[][] = [];
  for (const [r, c, v] of cells) (rows[r] ??= [])[c] = v;
  return rows;
}

async function selectPreset(index: number, backend: string): Promise<void> {
  await page.click(`#presets button[data-preset="${index}"]`);
  await page.waitForSelector(
      `#status[data-state="ready"][data-preset="${index}"][data-backend="${backend}"]`);
}

async function checkPreset(index: number, backend: string): Promise<void> {
  const expected = PRESETS[index];
  await selectPreset(index, backend);
  expect(await readCells('[data-matrix="P"]')).toEqual(expected.P);
  expect(await readCells('[data-matrix="K"]')).toEqual(expected.K);
  expect(await readCells('[data-matrix="KP"]')).toEqual(expected.KP);
  const outputs = await Promise.all(expected.output.map((_, o) => readCells(`[data-matrix="out-${o}"]`)));
  expect(outputs).toEqual(expected.output);
  expect(await page.getAttribute('#check', 'data-verdict')).toBe('match');
  expect(await page.getAttribute('#check', 'data-refused')).toBe(String(expected.refused));
  if (expected.refused) {
    expect(await page.textContent('#check')).toMatch(/refuses these settings \(“.*strides or dilations must be 1/);
  }

  // Hovering column j of P lights up patch j in X: channel by channel, row by row, the lit
  // cells read exactly the column (padding cells read 0).
  const patches = expected.P[0].length;
  for (const j of [0, patches - 1]) {
    await page.hover(`[data-matrix="P"] th[data-patch="${j}"]`);
    const lit = await page.$$eval('[data-matrix^="X-"] td.active .value',
                                  nodes => nodes.map(node => Number(node.textContent)));
    expect(lit).toEqual(expected.P.map(row => row[j]));
    expect(await page.$$eval('[data-matrix="KP"] td.active', nodes => nodes.length))
        .toBe(expected.KP.length);
  }
  // Hovering an output cell lights up the same K·P column.
  await page.hover(`[data-matrix="out-0"] td[data-patch="1"]`);
  expect(await page.$$eval('[data-matrix="KP"] td.active',
                           nodes => nodes.map(node => Number((node as HTMLElement).dataset.col))))
      .toEqual(expected.KP.map(() => 1));
  // The screenshot shows a middle patch highlighted.
  await page.hover(`[data-matrix="P"] th[data-patch="${Math.floor(patches / 2)}"]`);
  await page.screenshot({path: path.join(screenshotDir, `${expected.name}-${backend}.png`),
                         fullPage: true});
}

/** Runs the benchmark panel; the speed itself is for people to read, not asserted. */
async function runBenchPanel(backend: string): Promise<void> {
  await page.click('#run-bench');
  await page.waitForSelector('#bench-status:is([data-state="ready"], [data-state="error"])',
                             {timeout: 180000});
  expect(await page.textContent('#bench-status')).toBe(`done on ${backend}`);
  const bars = await page.$$eval('.bench-chart rect.bar', nodes => nodes.map(node => ({
    layer: (node as SVGElement).dataset.layer, series: (node as SVGElement).dataset.series,
    width: Number(node.getAttribute('width'))})));
  expect(bars.map(bar => `${bar.layer}/${bar.series}`)).toEqual(
      ['article-2', 'pointwise', 'dilated', 'resnet-deep'].flatMap(
          layer => [`${layer}/oursMs`, `${layer}/tfMs`]));
  expect(bars.every(bar => bar.width >= 1)).toBe(true);
  await page.locator('#bench').screenshot({path: path.join(screenshotDir, `bench-${backend}.png`)});
}

describe('demo page', () => {
  it('shows each article example with the seed values on cpu', async () => {
    for (const index of range(PRESETS.length)) await checkPreset(index, 'cpu');
  });

  it('leaks no tensors when recomputing', async () => {
    await selectPreset(0, 'cpu');
    const before = await page.getAttribute('#status', 'data-tensors');
    expect(before).toMatch(/^\d+$/);
    for (const index of [...range(PRESETS.length), 0]) await selectPreset(index, 'cpu');
    expect(await page.getAttribute('#status', 'data-tensors')).toBe(before);
  });

  it('says when the settings are invalid, and recovers', async () => {
    await selectPreset(0, 'cpu');
    await page.fill('input[name="kernelWidth"]', '9');
    await page.waitForSelector('#status[data-state="error"]');
    expect(await page.textContent('#status')).toMatch(/filter/);
    expect(await page.$$('[data-matrix="P"]')).toHaveLength(0);
    await selectPreset(0, 'cpu');
    await page.fill('input[name="channels"]', '500');
    await page.waitForSelector('#status[data-state="error"]');
    expect(await page.textContent('#status')).toMatch(/^Channels: /);
    await selectPreset(0, 'cpu');
    expect(await readCells('[data-matrix="KP"]')).toEqual(example1.KP);
  });

  it('takes custom settings: same padding, 2D, large matrices cut with a note', async () => {
    await selectPreset(1, 'cpu');
    for (const [name, value] of [['height', '12'], ['width', '12'], ['filters', '4'],
                                 ['kernelHeight', '3'], ['kernelWidth', '3']]) {
      await page.fill(`input[name="${name}"]`, value);
    }
    await page.selectOption('select[name="padMode"]', 'same');
    await page.waitForSelector('#status[data-state="ready"][data-preset="custom"]');
    expect(await page.getAttribute('#check', 'data-verdict')).toBe('match');
    // P is 27x144 (3 channels x 3x3 taps, 12x12 patches); the page shows a corner of it.
    expect(await page.getAttribute('[data-matrix="P"]', 'data-rows')).toBe('27');
    expect(await page.getAttribute('[data-matrix="P"]', 'data-cols')).toBe('144');
    const shown = await readCells('[data-matrix="P"]');
    expect(shown.length).toBeLessThan(27);
    expect(shown[0].length).toBeLessThan(144);
    expect(await page.textContent('[data-matrix="P"] + .note')).toMatch(/of 144 columns/);
    // Patch 0 with 'same' padding starts in the padding: its first tap reads 0.
    expect(shown[0][0]).toBe(0);
    await page.hover('[data-matrix="P"] th[data-patch="13"]');
    await page.screenshot({path: path.join(screenshotDir, 'custom-12x12-same-cpu.png'), fullPage: true});
  });

  it('runs the benchmark panel on cpu and draws both bars per layer', async () => {
    await runBenchPanel('cpu');
  }, 240000);

  it('switches to webgl and shows the same values computed there', async () => {
    await page.selectOption('#backend', 'webgl');
    await page.waitForSelector('#status[data-backend="webgl"]:not([data-state="busy"])');
    // The status text says why when it is not ready (e.g. no webgl kernel of this package).
    expect({state: await page.getAttribute('#status', 'data-state'),
            text: await page.textContent('#status')})
        .toEqual({state: 'ready', text: 'computed on the webgl backend'});
    for (const index of range(PRESETS.length)) await checkPreset(index, 'webgl');
    await runBenchPanel('webgl');
  }, 400000);  // ~25 s alone; software WebGL on a shared 2-core machine can take far longer
});

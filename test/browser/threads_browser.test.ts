/**
 * The CPU kernels' worker threads (IM2COL_CPU_THREADS) in headless Chromium, tfjs's real cpu
 * backend, each page served through the route with its own headers:
 *  - cross-origin isolated (COOP/COEP): the flag's default is min(hardwareConcurrency, 8);
 *    at 2 and 3 threads the convolutions (test/helpers/threads_probe.ts) match tfjs's own
 *    kernels and run on the workers (threadedProducts grows, the workers are ready), with
 *    nothing on the console, no tensors left behind, and disposeIm2colThreads() then more calls;
 *  - not isolated: the default is 1, silent; 2 asked for gives one warning and one thread;
 *  - isolated, but its CSP refuses workers (worker-src 'none'): one warning and one thread.
 * Workers start asynchronously in a page (once its main thread is free), so the first call
 * after a pool is made may run on the main thread alone: a warm-up call and a pause come
 * before threads are expected.
 */
import type {Browser} from 'playwright-core';
import {launchChromium} from './chromium';
import {TfjsPage} from './tfjs_page';

/** The extra modules' types (the page functions cast to them; casts vanish in the page). */
type Probe = typeof import('../helpers/threads_probe');
type Pool = typeof import('../../src/cpu/threads/pool');

const EXTRA = {
  probe: './test/helpers/threads_probe.ts', pool: './src/cpu/threads/pool.ts',
  // tfjs-core alone registers no gradients; the reference gradient needs tfjs's own.
  tfjsGradients: '@tensorflow/tfjs-core/dist/register_all_gradients',
};
const ISOLATED = {'Cross-Origin-Opener-Policy': 'same-origin',
                  'Cross-Origin-Embedder-Policy': 'require-corp'};
const WARNING = 'tfjs-im2col: the CPU kernels run on one thread';
const ALL = ['conv2d NHWC', 'conv2d NCHW', 'conv1d', 'strided', 'dilated',
             'conv2dTranspose (useIm2col)', 'conv2d gradients (useIm2col)'];
/** A few cases for the pages that cannot thread: a plain 2D, a 1D, a transposed (GEMM) one. */
const SOME = ['conv2d NHWC', 'conv1d', 'conv2dTranspose (useIm2col)'];

/**
 * Asked for 2 threads, three rounds of SOME with `pauseMs` between them (a refused worker's
 * error event arrives after the call that made it) give tfjs's results on one thread, with
 * exactly one warning.
 */
async function expectOneThreadAfterOneWarning(page: TfjsPage, pauseMs: number): Promise<void> {
  const rounds = await page.run(async ({tf, lib, probe}, [names, pause]) => {
    tf.env().set(lib.CPU_THREADS_FLAG, 2);
    const out = [];
    for (let round = 0; round < 3; round++) {
      out.push(...(probe as Probe).runCases(tf, lib, names as string[]));
      await new Promise(resolve => setTimeout(resolve, pause as number));
    }
    return out;
  }, [SOME, pauseMs]);
  for (const result of rounds) {
    expect(result.relError).toBeLessThan(1e-4);
    expect(result.threadedProducts).toBe(0);
  }
  const warnings = consoleOf(page, 'warning');
  expect(warnings).toHaveLength(1);
  expect(warnings[0].startsWith(WARNING)).toBe(true);
}

let browser: Browser;

beforeAll(async () => {
  browser = await launchChromium();
}, 60000);

afterAll(async () => {
  await browser?.close();
});

async function openPage(headers: Record<string, string>): Promise<TfjsPage> {
  const page = await TfjsPage.open(EXTRA, {browser, headers});
  await page.useBackend('cpu');
  return page;
}

/** Console messages of these types (Chromium's 'warning', 'error'). */
function consoleOf(page: TfjsPage, ...types: string[]): string[] {
  return page.consoleMessages.filter(m => types.includes(m.type)).map(m => m.text);
}

/** What the page says about isolation and the flag's default, before anything sets it. */
async function isolation(page: TfjsPage) {
  return page.run(({tf, lib}) => ({
    crossOriginIsolated: globalThis.crossOriginIsolated,
    cores: navigator.hardwareConcurrency,
    threads: tf.env().get(lib.CPU_THREADS_FLAG),
  }));
}

describe('a cross-origin-isolated page', () => {
  let page: TfjsPage;

  beforeAll(async () => {
    page = await openPage(ISOLATED);
  }, 60000);

  afterAll(async () => {
    await page?.close();
  });

  it('defaults to min(hardwareConcurrency, 8) threads', async () => {
    const info = await isolation(page);
    expect(info.crossOriginIsolated).toBe(true);
    expect(info.threads).toBe(Math.min(info.cores, 8));
  });

  it.each([2, 3])('at %i threads, matches tfjs on the workers', async threads => {
    const r = await page.run(async ({tf, lib, probe, pool}, n) => {
      tf.env().set(lib.CPU_THREADS_FLAG, n);
      // Makes the pool; its workers start once this task lets the main thread go.
      (probe as Probe).runCases(tf, lib, ['conv2d NHWC']);
      await new Promise(resolve => setTimeout(resolve, 200));
      const tensors = tf.memory().numTensors;
      const results = (probe as Probe).runCases(tf, lib, undefined, 5);
      return {results, readyWorkers: (pool as Pool).currentThreadPool()?.readyWorkers(),
              poolThreads: (pool as Pool).currentThreadPool()?.threads,
              tensorsAfter: tf.memory().numTensors - tensors};
    }, threads);
    expect(r.poolThreads).toBe(threads);
    expect(r.readyWorkers).toBe(threads - 1);
    expect(r.tensorsAfter).toBe(0);
    // Each case: [name, within 1e-4 of tfjs, ran on more than one thread].
    expect(r.results.map(c => [c.name, c.relError < 1e-4, c.threadedProducts > 0]))
        .toEqual(ALL.map(name => [name, true, true]));
  });

  it('works on after disposeIm2colThreads(), tensors flat, console quiet', async () => {
    const r = await page.run(async ({tf, lib, probe, pool}) => {
      tf.env().set(lib.CPU_THREADS_FLAG, 2);
      const tensors = tf.memory().numTensors;
      lib.disposeIm2colThreads();
      const gone = (pool as Pool).currentThreadPool() === undefined;
      const first = (probe as Probe).runCases(tf, lib, ['conv2d NHWC', 'conv1d']);
      await new Promise(resolve => setTimeout(resolve, 200));
      const again = (probe as Probe).runCases(tf, lib, ['conv2d NHWC', 'conv1d'], 5);
      lib.disposeIm2colThreads();
      return {gone, first, again, tensorsAfter: tf.memory().numTensors - tensors};
    });
    expect(r.gone).toBe(true);
    for (const result of [...r.first, ...r.again]) expect(result.relError).toBeLessThan(1e-4);
    for (const result of r.again) expect(result.threadedProducts).toBeGreaterThan(0);
    expect(r.tensorsAfter).toBe(0);
    expect(consoleOf(page, 'warning', 'error')).toEqual([]);
  });
});

describe('a page that is not cross-origin isolated', () => {
  let page: TfjsPage;

  beforeAll(async () => {
    page = await openPage({});
  }, 60000);

  afterAll(async () => {
    await page?.close();
  });

  it('defaults to one thread, silently', async () => {
    const info = await isolation(page);
    expect(info.crossOriginIsolated).toBe(false);
    expect(info.threads).toBe(1);
    const results = await page.run(({tf, lib, probe}, names) => (probe as Probe).runCases(tf, lib, names), SOME);
    for (const result of results) {
      expect(result.relError).toBeLessThan(1e-4);
      expect(result.threadedProducts).toBe(0);
    }
    expect(consoleOf(page, 'warning')).toEqual([]);
  });

  it('asked for 2 threads, warns once and runs on one', async () => {
    await expectOneThreadAfterOneWarning(page, 50);
  });
});

it('an isolated page whose CSP forbids workers warns once and runs on one thread', async () => {
  const page = await openPage({...ISOLATED, 'Content-Security-Policy': "worker-src 'none'"});
  try {
    const info = await isolation(page);
    expect(info.crossOriginIsolated).toBe(true);
    // The refusal reaches the pool as a worker's error event, after the call that made it:
    // pauses between the rounds let it arrive.
    await expectOneThreadAfterOneWarning(page, 200);
  } finally {
    await page.close();
  }
}, 60000);

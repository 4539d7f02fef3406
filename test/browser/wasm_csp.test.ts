/**
 * A page whose Content-Security-Policy forbids compiling WebAssembly (no 'wasm-unsafe-eval',
 * no 'unsafe-eval'): the cpu kernels run on the TypeScript GEMM under 'auto' with one
 * warning, availableCpuGemms() says so, and an explicit 'wasm' is an error naming the flag.
 * The same page without the policy picks wasm. tf.conv2d on tfjs's own kernel is the
 * reference.
 *
 * Such a policy also blocks `new Function`, which TfjsPage.run uses, so the page's own script
 * does the work on load and leaves a JSON result on a global; page.evaluate (not subject to
 * the page's policy) reads it.
 */
import type {Browser} from 'playwright-core';
import type {FallbackProbeResult} from '../helpers/fallback_probe';
import {launchChromium} from './chromium';
import {bundlePageScript} from './tfjs_page';

/** Runs in the page after the bundle: the fallback probe, then window.__result. */
const WORK = `
const {tf, lib, probe} = globalThis.__tfjsPage;
probe.fallbackProbe(tf, lib).then(
    result => { window.__result = result; },
    error => { window.__result = {error: String(error && error.stack || error)}; });
`;

type PageResult = FallbackProbeResult & {error?: string};

let browser: Browser;

beforeAll(async () => {
  browser = await launchChromium();
}, 60000);

afterAll(async () => {
  await browser?.close();
});

/** Serves the page (and its two scripts, same origin) with `csp`, or none; returns the result. */
async function runPage(csp: string | null): Promise<{result: PageResult, pageErrors: string[]}> {
  const page = await browser.newPage();
  try {
    const pageErrors: string[] = [];
    page.on('pageerror', error => pageErrors.push(String(error)));
    const headers: Record<string, string> = csp === null ? {} : {'Content-Security-Policy': csp};
    const bodies: Record<string, [string, string]> = {
      '/': ['text/html', '<!doctype html><html><body><script src="/bundle.js"></script>' +
                         '<script src="/work.js"></script></body></html>'],
      '/bundle.js': ['text/javascript', bundlePageScript({probe: './test/helpers/fallback_probe.ts'})],
      '/work.js': ['text/javascript', WORK],
    };
    await page.route('**/*', route => {
      const body = bodies[new URL(route.request().url()).pathname];
      return body === undefined ? route.abort() :
          route.fulfill({status: 200, contentType: body[0], headers, body: body[1]});
    });
    await page.goto('http://im2col.test/');
    await page.waitForFunction(() => (window as unknown as {__result?: unknown}).__result !== undefined,
                               undefined, {timeout: 60000});
    const result = await page.evaluate(() => (window as unknown as {__result: PageResult}).__result);
    if (result.error) throw new Error(`page failed: ${result.error}`);
    return {result, pageErrors};
  } finally {
    await page.close();
  }
}

it('under a CSP without wasm-unsafe-eval, auto runs TypeScript with one warning', async () => {
  const {result, pageErrors} = await runPage("script-src 'self' 'unsafe-inline'");
  expect(pageErrors).toEqual([]);
  expect(result.available).toEqual(['typescript']);
  expect(result.lengths).toBe(true);
  expect(result.maxError).toBeLessThan(1e-4);
  expect(result.warnings).toHaveLength(1);
  expect(result.warnings[0]).toContain("tfjs-im2col: IM2COL_CPU_GEMM is 'auto'");
  expect(result.wasmError).toContain("IM2COL_CPU_GEMM is 'wasm', but the WebAssembly GEMM cannot run here");
}, 120000);

it('the same page without the policy picks wasm, silently', async () => {
  const {result, pageErrors} = await runPage(null);
  expect(pageErrors).toEqual([]);
  expect(result.available).toEqual(['wasm', 'typescript']);
  expect(result.maxError).toBeLessThan(1e-4);
  expect(result.warnings).toEqual([]);
  expect(result.wasmError).toBeNull();
}, 120000);

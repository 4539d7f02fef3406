/**
 * A headless Chromium page with tfjs-core, -backend-cpu, -backend-webgl and this package
 * (from src/) bundled by esbuild into one script: no CDN, no network. The page's one
 * request that gets an answer is for tfjs-backend-wasm's .wasm binaries (when the bundle has
 * that backend), served by a Playwright route from node_modules. Suites run async
 * functions in the page and get JSON back:
 *
 *   const page = await TfjsPage.open({cases: 'test/helpers/conv_cases.ts'});
 *   const shape = await page.run(async ({tf, lib}) => lib.im2colConv2d(...).shape);
 *   await page.close();
 *
 * A function given to `run` is sent as source text, so it may use only its arguments: the
 * page globals ({tf, webgl, lib, ...extra modules}) and one JSON argument.
 *
 * With `headers` the page is served from http://im2col.test/ with those response headers
 * (COOP/COEP for cross-origin isolation, a CSP), its script a same-origin file, rather than
 * set on about:blank, which no header can reach.
 */
import * as esbuild from 'esbuild';
import {existsSync, readFileSync} from 'fs';
import * as path from 'path';
import type {Browser, Page} from 'playwright-core';
import {launchChromium} from './chromium';

/** The repository root: from this file's place, or the working directory when bundled. */
const ROOT = [path.join(__dirname, '..', '..'), process.cwd()]
    .find(dir => existsSync(path.join(dir, 'src', 'index.ts'))) ?? process.cwd();

/** What a page function receives; extra modules appear under the names given to `open`. */
export interface PageGlobals {
  tf: typeof import('@tensorflow/tfjs-core');
  webgl: typeof import('@tensorflow/tfjs-backend-webgl');
  lib: typeof import('../../src');
  [extra: string]: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

const WASM_BACKEND = '@tensorflow/tfjs-backend-wasm';
/** Where the page's tfjs-backend-wasm fetches its binaries: the route in `open` answers. */
const WASM_BINARIES_URL = 'http://im2col.test/tfjs-backend-wasm/';
const WASM_BINARY = /^tfjs-backend-wasm[a-z-]*\.wasm$/;

const bundles = new Map<string, string>();

/** Bundles the page script: the standard modules plus `extra` (global name -> module path). */
export function bundlePageScript(extra: Record<string, string> = {}): string {
  const key = JSON.stringify(extra);
  const cached = bundles.get(key);
  if (cached != null) return cached;
  const modules: Record<string, string> = {
    tf: '@tensorflow/tfjs-core', webgl: '@tensorflow/tfjs-backend-webgl', lib: './src/index.ts',
    ...extra
  };
  const contents = [
    `import '@tensorflow/tfjs-backend-cpu';`,
    ...Object.entries(modules).map(([name, from]) => `import * as ${name} from ${JSON.stringify(from)};`),
    `globalThis.__tfjsPage = {${Object.keys(modules).join(', ')}};`,
    // Before anything can start the wasm backend (it throws once started).
    ...Object.entries(modules).filter(([, from]) => from === WASM_BACKEND)
        .map(([name]) => `${name}.setWasmPaths(${JSON.stringify(WASM_BINARIES_URL)});`),
  ].join('\n');
  const result = esbuild.buildSync({
    stdin: {contents, resolveDir: ROOT, sourcefile: 'tfjs_page_entry.js', loader: 'js'},
    bundle: true, format: 'iife', platform: 'browser', target: 'es2020', write: false,
    logLevel: 'warning', define: {'process.env.NODE_ENV': '"production"'},
  });
  const script = result.outputFiles[0].text;
  bundles.set(key, script);
  return script;
}

/** Where an `open` with `headers` serves the page and its script. */
// localhost: a potentially trustworthy origin, as cross-origin isolation needs; nothing
// listens there, the route answers.
const PAGE_URL = 'http://localhost:8137/';

export interface PageOptions {
  /** Serve the page from PAGE_URL with these response headers (see above). */
  headers?: Record<string, string>;
  /** Open the page in this browser, which `close` then leaves open; default: a new one. */
  browser?: Browser;
}

export class TfjsPage {
  private constructor(private browser: Browser, private readonly ownsBrowser: boolean,
                      readonly page: Page, private readonly errors: string[],
                      /** The tfjs-backend-wasm binaries the page has fetched, in order. */
                      readonly wasmBinaries: string[],
                      /** The page's console messages (type, text), in order. */
                      readonly consoleMessages: Array<{type: string, text: string}>) {}

  /** Launches Chromium and loads the bundle; `extra` adds modules to the page globals. */
  static async open(extra: Record<string, string> = {}, options: PageOptions = {}):
      Promise<TfjsPage> {
    const script = bundlePageScript(extra);
    const browser = options.browser ?? await launchChromium();
    let page: Page | undefined;
    try {
      page = await browser.newPage();
      const errors: string[] = [];
      page.on('pageerror', error => errors.push(String(error)));
      const consoleMessages: Array<{type: string, text: string}> = [];
      page.on('console', message => consoleMessages.push({type: message.type(), text: message.text()}));
      const {headers} = options;
      // Everything else the page needs is inline: refuse any other request. A page on
      // about:blank (origin null) fetches a binary cross-origin, hence the CORS header;
      // application/wasm lets WebAssembly.instantiateStreaming take it.
      const wasmBinaries: string[] = [];
      const wasmDir = path.join(path.dirname(
          require.resolve(`${WASM_BACKEND}/package.json`, {paths: [ROOT]})), 'dist');
      await page.route('**/*', route => {
        const url = route.request().url();
        if (headers !== undefined && (url === PAGE_URL || url === `${PAGE_URL}bundle.js`)) {
          return url === PAGE_URL ?
              route.fulfill({status: 200, contentType: 'text/html', headers, body:
                  '<!doctype html><html><body><script src="/bundle.js"></script></body></html>'}) :
              route.fulfill({status: 200, contentType: 'text/javascript', headers, body: script});
        }
        const file = url.startsWith(WASM_BINARIES_URL) ? url.slice(WASM_BINARIES_URL.length) : '';
        if (!WASM_BINARY.test(file) || !existsSync(path.join(wasmDir, file))) return route.abort();
        wasmBinaries.push(file);
        return route.fulfill({status: 200, contentType: 'application/wasm',
                              headers: {'Access-Control-Allow-Origin': '*'},
                              body: readFileSync(path.join(wasmDir, file))});
      });
      if (headers === undefined) {
        await page.setContent('<!doctype html><html><body></body></html>');
        await page.addScriptTag({content: script});
      } else {
        await page.goto(PAGE_URL);
        if (!(await page.evaluate(() => '__tfjsPage' in globalThis))) {
          throw new Error(`the page's script did not run (page errors: ${errors.join('; ')})`);
        }
      }
      return new TfjsPage(browser, options.browser === undefined, page, errors, wasmBinaries,
                          consoleMessages);
    } catch (error) {
      await (options.browser === undefined ? browser.close() : page?.close());
      throw error;
    }
  }

  /**
   * A page on the webgl backend (cpu started too, for references), its context logged, and
   * the tolerance its render targets allow: half-float ones round every pass to 11 bits of
   * mantissa.
   */
  static async openOnWebgl(extra: Record<string, string> = {}):
      Promise<{page: TfjsPage, tolerance: number}> {
    const page = await TfjsPage.open(extra);
    await page.useBackend('cpu');
    await page.useBackend('webgl');
    const info = await page.webglInfo();
    const tolerance = info.renderFloat32 ? 1e-4 : 2e-2;
    console.log(`webgl page: WEBGL_VERSION ${info.version}, max texture size ` +
                `${info.maxTextureSize}, float32 render targets ${info.renderFloat32}, ` +
                `renderer ${info.renderer}; tolerance ${tolerance}`);
    return {page, tolerance};
  }

  /** Runs `fn(globals, arg)` in the page and returns its (JSON) result. */
  async run<A, R>(fn: (globals: PageGlobals, arg: A) => R | Promise<R>, arg?: A): Promise<R> {
    try {
      return await this.page.evaluate(
          ([source, value]) => {
            const g = (globalThis as unknown as {__tfjsPage: unknown}).__tfjsPage;
            return new Function('g', 'arg', `return (${source})(g, arg);`)(g, value);
          },
          [fn.toString(), arg] as [string, A]) as R;
    } catch (error) {
      const pageErrors = this.errors.length ? ` (page errors: ${this.errors.join('; ')})` : '';
      throw new Error(`${(error as Error).message}${pageErrors}`);
    }
  }

  /** Sets the backend (waits for it to initialise) and describes the WebGL context. */
  async useBackend(name: 'webgl' | 'cpu'): Promise<void> {
    await this.run(async ({tf}, backend) => {
      if (!(await tf.setBackend(backend))) throw new Error(`backend ${backend} failed to start`);
      await tf.ready();
    }, name);
  }

  /** WEBGL_VERSION, max texture size and float32 render capability of the page's context. */
  async webglInfo(): Promise<{version: number, maxTextureSize: number, renderFloat32: boolean,
                              renderer: string}> {
    return this.run(({tf}) => {
      const canvas = document.createElement('canvas');
      const gl = canvas.getContext('webgl2');
      const debug = gl?.getExtension('WEBGL_debug_renderer_info');
      return {
        version: tf.env().getNumber('WEBGL_VERSION'),
        maxTextureSize: tf.env().getNumber('WEBGL_MAX_TEXTURE_SIZE'),
        renderFloat32: tf.env().getBool('WEBGL_RENDER_FLOAT32_ENABLED'),
        renderer: gl && debug ? String(gl.getParameter(debug.UNMASKED_RENDERER_WEBGL)) : 'unknown',
      };
    });
  }

  async close(): Promise<void> {
    await (this.ownsBrowser ? this.browser.close() : this.page.close());
  }
}

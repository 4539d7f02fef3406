/**
 * tfjs-core's own conv-family spec files in headless Chromium, with useIm2col on, on the
 * page's webgl and cpu backends. The page bundles tfjs-core's ESM build, its gradients and
 * chained ops (as tfjs-core's own test setup registers them) and helpers/tfjs_spec_runtime;
 * Node transforms each spec file to CommonJS and the page runs it against its tfjs-core
 * (see helpers/tfjs_core_suites.ts). One jest test per (environment, suite) lists every
 * failing spec with its error.
 */
import {CORE_SUITES, CoreSuite, expectedStandIns, formatCounts, loadSpecSource, SuiteCounts} from '../helpers/tfjs_core_suites';
import type {SpecOutcome, TestEnv} from '../helpers/tfjs_spec_runtime';
import {TfjsPage} from './tfjs_page';

const EXTRA = {
  tfjsGradients: '@tensorflow/tfjs-core/dist/register_all_gradients',
  chainedOps: '@tensorflow/tfjs-core/dist/public/chained_ops/register_all_chained_ops',
  runtime: './test/helpers/tfjs_spec_runtime.ts',
  im2colState: './src/state.ts',
};

/** tfjs-backend-webgl's own 'webgl2' test environment. */
const WEBGL2: TestEnv = {
  name: 'webgl2-im2col', backendName: 'webgl',
  flags: {WEBGL_VERSION: 2, WEBGL_CPU_FORWARD: false, WEBGL_SIZE_UPLOAD_UNIFORM: 0},
  isDataSync: true
};
/**
 * Its 'webgl1' twin: the package's shaders need WebGL 2, so there the stand-ins hand every
 * call to tfjs's own kernels (with one warning), and the specs must pass all the same.
 */
const WEBGL1: TestEnv = {...WEBGL2, name: 'webgl1-im2col', flags: {...WEBGL2.flags, WEBGL_VERSION: 1}};
/** The cpu backend in the browser, on the wasm GEMM (Node covers the typescript one too). */
const CPU_WASM: TestEnv = {
  name: 'cpu-im2col-wasm', backendName: 'cpu', flags: {IM2COL_CPU_GEMM: 'wasm'}, isDataSync: true
};

/**
 * Every suite on webgl2 and cpu (about 65 s on webgl under SwiftShader, under 2 s on cpu);
 * the conv2d and fused conv2d suites on webgl1, where no stand-in may run its own shaders.
 */
const PLAN: {env: TestEnv, suites: CoreSuite[], standInsRun: boolean}[] = [
  {env: WEBGL2, suites: CORE_SUITES, standInsRun: true},
  {env: CPU_WASM, suites: CORE_SUITES, standInsRun: true},
  {env: WEBGL1, suites: CORE_SUITES.filter(s => s.name === 'conv2d' || s.name === 'fused conv2d'),
   standInsRun: false},
];

interface PageSuiteResult {
  outcomes: SpecOutcome[];
  excluded: number;
  calls: Record<string, number>;
  flagsSeen: string[];
  /** The kernels useIm2col switched on the environment's backend. */
  switched: string[];
}

let page: TfjsPage;
const summary: string[] = [];

beforeAll(async () => {
  page = await TfjsPage.open(EXTRA);
  await page.run(({lib, runtime}) => {
    // tfjs's specs and test_util (expectArraysClose calls expect().nothing()) use a global
    // jasmine expect; the page has no other.
    (globalThis as unknown as {expect: unknown}).expect = runtime.jasmineExpect;
    (globalThis as unknown as {restoreIm2col: () => void}).restoreIm2col = lib.useIm2col();
  });
}, 120000);

afterAll(async () => {
  console.log(`tfjs-core suites with useIm2col in Chromium:\n${summary.join('\n')}`);
  await page?.close();
});

for (const {env, suites, standInsRun} of PLAN) {
  describe(`tfjs-core conv suites in Chromium [${env.name}]`, () => {
    for (const suite of suites) {
      it(`${suite.file}: every spec tfjs's flags select passes, on tfjs-im2col's kernels`, async () => {
        const started = Date.now();
        const result: PageSuiteResult = await page.run(async ({tf, lib, runtime, im2colState}, {source, env}) => {
          const before = lib.kernelStats().calls;
          const collected = runtime.collectSuite(tf, source, env);
          // The flag values each spec ran under (the environment's must be live).
          const flagsSeen = new Set<string>();
          const outcomes = await runtime.runBlocks(collected.blocks, () => flagsSeen.add(
              JSON.stringify(Object.fromEntries(Object.keys(env.flags ?? {})
                                                    .map(flag => [flag, tf.env().get(flag)])))));
          const calls: Record<string, number> = {};
          for (const [key, n] of Object.entries(lib.kernelStats().calls)) {
            if (key.endsWith(`/${env.backendName}`) && n > (before[key] ?? 0)) {
              calls[key] = n - (before[key] ?? 0);
            }
          }
          return {outcomes, excluded: collected.excluded, calls, flagsSeen: [...flagsSeen],
                  switched: im2colState.state.switched.get(env.backendName) ?? []};
        }, {source: loadSpecSource(suite), env});
        const failures = result.outcomes.filter(o => o.error != null);
        const counts: SuiteCounts = {
          suite: suite.name, env: env.name, selected: result.outcomes.length,
          passed: result.outcomes.length - failures.length, excluded: result.excluded,
          kernelCalls: result.calls
        };
        summary.push(`${formatCounts(counts)} ${((Date.now() - started) / 1000).toFixed(1)} s`);
        expect(counts.selected).toBeGreaterThan(0);
        expect(result.flagsSeen).toEqual([JSON.stringify(env.flags ?? {})]);
        // Keyed, so a failure names the stand-in that never ran.
        const ran = Object.fromEntries(expectedStandIns(suite, result.switched).map(k => [`${k}/${env.backendName}`,
                                                               (result.calls[`${k}/${env.backendName}`] ?? 0) > 0]));
        expect(ran).toEqual(Object.fromEntries(Object.keys(ran).map(key => [key, standInsRun])));
        expect(failures.map(f => `${f.name}: ${f.error}`)).toEqual([]);
      }, 240000);
    }
  });
}

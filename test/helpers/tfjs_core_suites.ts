/**
 * tfjs-core's own conv-family spec files (shipped in its npm package as ESM under dist/ops),
 * run with this package's kernels in place. The suites and the environments are data: add a
 * spec file to CORE_SUITES, or a backend to the environments a test file passes in.
 *
 * How a spec file reaches the test: esbuild transforms it (no bundling) from ESM to CommonJS,
 * so its imports become `require('../index')` etc.; tfjs_spec_runtime's collectSuite runs
 * that code with a `require` which hands it the tfjs-core instance the test itself imports
 * (one engine, one kernel and gradient registry, where useIm2col has swapped the kernels),
 * and a jasmine_util stand-in that keeps tfjs's describeWithFlags semantics.
 */
import {transformSync} from 'esbuild';
import {readFileSync} from 'fs';
import * as path from 'path';
import {BlockNode, callJasmineFn, collectSuite, countSpecs, jasmineToThrowError, SpecSource, TestEnv, TfjsCore} from './tfjs_spec_runtime';

export interface CoreSuite {
  /** Short name used in test names and the summary. */
  name: string;
  /** The spec file under @tensorflow/tfjs-core/dist/. */
  file: string;
  /**
   * tfjs kernels whose tfjs-im2col stand-ins must have run during the suite where the
   * backend switches them (checked as kernelStats() calls `${kernel}/${backend}`).
   */
  standIns: string[];
}

export const CORE_SUITES: CoreSuite[] = [
  {name: 'conv2d', file: 'ops/conv2d_test.js', standIns: ['Conv2D']},
  {name: 'conv1d', file: 'ops/conv1d_test.js', standIns: ['Conv2D']},
  {name: 'fused conv2d', file: 'ops/fused/fused_conv2d_test.js', standIns: ['FusedConv2D']},
  {name: 'separableConv2d', file: 'ops/conv2d_separable_test.js',
   standIns: ['Conv2D', 'DepthwiseConv2dNative']},
  {name: 'depthwiseConv2d', file: 'ops/depthwise_conv2d_test.js',
   standIns: ['DepthwiseConv2dNative', 'DepthwiseConv2dNativeBackpropInput',
              'DepthwiseConv2dNativeBackpropFilter']},
  {name: 'fused depthwiseConv2d', file: 'ops/fused/fused_depthwise_conv2d_test.js',
   standIns: ['FusedDepthwiseConv2D']},
  {name: 'conv2dTranspose', file: 'ops/conv2d_transpose_test.js',
   standIns: ['Conv2DBackpropInput', 'Conv2DBackpropFilter']},
  {name: 'conv3d', file: 'ops/conv3d_test.js', standIns: ['Conv3D']},
];

/** The suite's stand-ins that `switched` (a backend's switched kernels) includes. */
export function expectedStandIns(suite: CoreSuite, switched: readonly string[]): string[] {
  return suite.standIns.filter(kernel => switched.includes(kernel));
}

/** Backends whose convolutions useIm2col switches when asked (where a suite's standIns must run). */
export const STAND_IN_BACKENDS = ['cpu', 'webgl', 'wasm'];

/** The cpu backend with useIm2col on, once per CPU GEMM (a flag, as tfjs test envs carry). */
export const CPU_IM2COL_ENVS: TestEnv[] = [
  {name: 'cpu-im2col-wasm', backendName: 'cpu', flags: {IM2COL_CPU_GEMM: 'wasm'}, isDataSync: true},
  {name: 'cpu-im2col-typescript', backendName: 'cpu', flags: {IM2COL_CPU_GEMM: 'typescript'},
   isDataSync: true},
];

const CORE_DIST = path.dirname(require.resolve('@tensorflow/tfjs-core/dist/index.js'));
const sources = new Map<string, SpecSource>();

/** The spec file as CommonJS (cached per file). */
export function loadSpecSource(suite: CoreSuite): SpecSource {
  let source = sources.get(suite.file);
  if (source == null) {
    const esm = readFileSync(path.join(CORE_DIST, suite.file), 'utf8')
        .replace(/\/\/# sourceMappingURL=.*$/m, '');  // a large inline map that no one reads
    const {code} = transformSync(esm, {format: 'cjs', loader: 'js', target: 'es2020',
                                       sourcefile: suite.file});
    source = {path: suite.file, code};
    sources.set(suite.file, source);
  }
  return source;
}

/** Per suite and environment: specs selected by tfjs's flags, passed, excluded by the flags. */
export interface SuiteCounts {
  suite: string;
  env: string;
  selected: number;
  passed: number;
  excluded: number;
  /** tfjs-im2col kernel calls (`Conv2D/cpu`, `Im2col/cpu`, ...) made during the suite. */
  kernelCalls: Record<string, number>;
}

export function formatCounts(c: SuiteCounts): string {
  const calls = Object.entries(c.kernelCalls).map(([k, n]) => `${k} ${n}`).join(', ') || 'none';
  return `${c.env.padEnd(22)} ${c.suite.padEnd(22)} passed ${String(c.passed).padStart(3)}  ` +
      `failed ${String(c.selected - c.passed).padStart(3)}  excluded by flags ${c.excluded}  ` +
      `(tfjs-im2col kernel calls: ${calls})`;
}

/**
 * Jasmine matchers the specs and tfjs's test_util use that jest 30 lacks: toThrowError
 * (dropped as an alias, and with jasmine's exact-message semantics) and nothing() (which
 * tfjs-core's expectArraysClose calls on the global expect).
 */
export function addJasmineMatchers(): void {
  expect.extend({
    toThrowError(received: unknown, expected?: unknown, message?: unknown) {
      const result = jasmineToThrowError(received, expected, message);
      return {pass: result.pass, message: () => result.message};
    },
    nothing() {
      return {pass: true, message: () => 'nothing() always passes'};
    },
  });
}

/**
 * Emits a collected block as jest describe/hooks/tests; counts passes into `counts`, and
 * calls `beforeSpec` right before each spec body (after the hooks).
 */
function emitJest(block: BlockNode, counts: SuiteCounts, beforeSpec: () => void): void {
  describe(block.name, () => {
    for (const hook of block.beforeAll) beforeAll(() => callJasmineFn(hook));
    for (const hook of block.beforeEach) beforeEach(() => callJasmineFn(hook));
    for (const hook of block.afterEach) afterEach(() => callJasmineFn(hook));
    for (const hook of block.afterAll) afterAll(() => callJasmineFn(hook));
    for (const child of block.children) {
      if (child.kind === 'describe') {
        emitJest(child, counts, beforeSpec);
      } else {
        it(child.name, async () => {
          beforeSpec();
          await callJasmineFn(child.fn);
          counts.passed++;
        });
      }
    }
  });
}

export interface NodeSuiteOptions {
  tf: TfjsCore;
  suites: CoreSuite[];
  envs: TestEnv[];
  /** Reads the package's counters (kernelStats().calls; a stand-in's calls handed to the
   *  backend's own kernel, kernelStats().handedToBackend, keyed `handed ${key}`). */
  kernelCalls: () => Record<string, number>;
  /** The kernels useIm2col switched on a backend. */
  switchedKernels: (backendName: string) => readonly string[];
  /** Receives every suite's counts once the suite has run. */
  report: (counts: SuiteCounts) => void;
}

/**
 * Defines jest tests for every (environment, suite): tfjs's specs as collected for that
 * environment, then one check that the suite's stand-ins ran and that every selected spec
 * passed (so a spec that fails in a hook, where its test body never ran, is still counted).
 */
export function defineNodeSuites({tf, suites, envs, kernelCalls, switchedKernels, report}:
                                     NodeSuiteOptions): void {
  addJasmineMatchers();
  for (const env of envs) {
    for (const suite of suites) {
      const collected = collectSuite(tf, loadSpecSource(suite), env);
      const counts: SuiteCounts = {
        suite: suite.name, env: env.name, passed: 0, excluded: collected.excluded,
        selected: collected.blocks.reduce((n, b) => n + countSpecs(b), 0), kernelCalls: {}
      };
      describe(`tfjs-core ${suite.file} [${env.name}]`, () => {
        let before: Record<string, number> = {};
        beforeAll(() => {
          before = kernelCalls();
        });
        // The flag values each spec ran under: the environment's (a GEMM, say) must be live,
        // not reset by the engine lifecycle in between.
        const flagsSeen = new Set<string>();
        const recordFlags = () => flagsSeen.add(JSON.stringify(Object.fromEntries(
            Object.keys(env.flags ?? {}).map(flag => [flag, tf.env().get(flag)]))));
        for (const block of collected.blocks) emitJest(block, counts, recordFlags);
        it('selects specs, runs the tfjs-im2col stand-ins, and passes every selected spec', () => {
          const after = kernelCalls();
          for (const [key, n] of Object.entries(after)) {
            if (key.endsWith(`/${env.backendName}`) && n - (before[key] ?? 0) > 0) {
              counts.kernelCalls[key] = n - (before[key] ?? 0);
            }
          }
          report(counts);
          expect(counts.selected).toBeGreaterThan(0);
          expect([...flagsSeen]).toEqual([JSON.stringify(env.flags ?? {})]);
          // Keyed, so a failure names the stand-in that never ran. A backend useIm2col does
          // not switch (wasm, as a baseline) has none to check.
          const standIns = STAND_IN_BACKENDS.includes(env.backendName) ?
              expectedStandIns(suite, switchedKernels(env.backendName)) : [];
          const ran = Object.fromEntries(standIns.map(kernel => {
            const key = `${kernel}/${env.backendName}`;
            const runs = (counts.kernelCalls[key] ?? 0) + (counts.kernelCalls[`handed ${key}`] ?? 0);
            return [key, runs > 0];
          }));
          expect(ran).toEqual(Object.fromEntries(Object.keys(ran).map(key => [key, true])));
          expect(counts.passed).toBe(counts.selected);
        });
      });
    }
  }
}

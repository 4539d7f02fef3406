/**
 * Where WebAssembly cannot run, 'auto' runs the CPU kernels on the TypeScript GEMM with one
 * warning, availableCpuGemms() says so, and an explicit 'wasm' is an error naming the flag
 * and the reason:
 *   - a Node process under `ulimit -v` (V8 cannot reserve a wasm memory's address space);
 *   - memory.grow failing for a call that needs more memory (in this process).
 * Results are checked against tf.conv2d on tfjs's own cpu kernel.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import {spawnSync} from 'child_process';
import * as esbuild from 'esbuild';
import {mkdirSync} from 'fs';
import * as path from 'path';
import {availableCpuGemms, CPU_GEMM_FLAG, im2colConv2d} from '../src';
import type {FallbackProbeResult} from './helpers/fallback_probe';
import {Random} from './helpers/random';

const ROOT = path.join(__dirname, '..');
// Inside node_modules so the bundle resolves the tfjs packages (external) from this project.
const DIR = path.join(ROOT, 'node_modules', '.cache', 'wasm_fallback_test');

/** The child: the fallback probe on the cpu backend; prints its JSON result. */
const CHILD = `
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as lib from './src/index.ts';
import {fallbackProbe} from './test/helpers/fallback_probe.ts';
tf.env().set('IS_TEST', true);
fallbackProbe(tf, lib).then(result => console.log(JSON.stringify(result)),
                            error => console.log(JSON.stringify({error: String(error && error.stack || error)})));
`;

beforeAll(() => {
  mkdirSync(DIR, {recursive: true});
  esbuild.buildSync({
    stdin: {contents: CHILD, resolveDir: ROOT, sourcefile: 'child.ts', loader: 'ts'},
    bundle: true, platform: 'node', target: 'node20', format: 'cjs',
    outfile: path.join(DIR, 'child.cjs'), packages: 'external', logLevel: 'warning',
  });
});

type ChildResult = FallbackProbeResult & {error?: string};

function runChild(shellPrefix: string): ChildResult {
  const result = spawnSync('bash', ['-c', `${shellPrefix}exec "${process.execPath}" child.cjs`],
                           {cwd: DIR, encoding: 'utf8', timeout: 120000});
  if (result.status !== 0) {
    throw new Error(`child exited ${result.status}: ${result.stderr}\n${result.stdout}`);
  }
  const parsed = JSON.parse(result.stdout.trim().split('\n').pop()!) as ChildResult;
  if (parsed.error) throw new Error(`child failed: ${parsed.error}`);
  return parsed;
}

it('under ulimit -v, auto runs the TypeScript GEMM with one warning; wasm is an error', () => {
  const child = runChild('ulimit -v 8000000; ');
  expect(child.available).toEqual(['typescript']);
  expect(child.lengths).toBe(true);
  expect(child.maxError).toBeLessThan(1e-4);
  expect(child.warnings).toHaveLength(1);
  expect(child.warnings[0]).toContain(CPU_GEMM_FLAG);
  expect(child.warnings[0]).toContain('TypeScript');
  expect(child.wasmError).toContain(`${CPU_GEMM_FLAG} is 'wasm'`);
  expect(child.wasmError).toMatch(/memory/i);
}, 150000);

it('without the limit, the same child picks wasm, silently', () => {
  const child = runChild('');
  expect(child.available).toEqual(['wasm', 'typescript']);
  expect(child.maxError).toBeLessThan(1e-4);
  expect(child.warnings).toEqual([]);
  expect(child.wasmError).toBeNull();
}, 150000);

describe('memory.grow failing', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });
  afterEach(() => {
    jest.restoreAllMocks();
    tf.env().set(CPU_GEMM_FLAG, 'auto');
  });

  it('auto falls back to TypeScript for the call (one warning); wasm throws', async () => {
    expect(availableCpuGemms()).toEqual(['wasm', 'typescript']);
    const warn = jest.spyOn(console, 'warn').mockImplementation(() => {});
    const grow = jest.spyOn(WebAssembly.Memory.prototype, 'grow').mockImplementation(() => {
      throw new RangeError('WebAssembly.Memory.grow(): Unable to grow instance memory');
    });
    const random = new Random(3);
    // Large enough to need more than any memory the shared instance has yet.
    const x = tf.tensor4d(random.values(2 * 64 * 64 * 32), [2, 64, 64, 32]);
    const filter = tf.tensor4d(random.values(3 * 3 * 32 * 48), [3, 3, 32, 48]);
    const expected = await tf.conv2d(x, filter, 1, 'same').data();
    for (let call = 0; call < 2; call++) {
      const actual = await im2colConv2d(x, filter, 1, 'same').data();
      let worst = 0;
      for (let i = 0; i < expected.length; i++) {
        worst = Math.max(worst, Math.abs(actual[i] - expected[i]));
      }
      expect(worst).toBeLessThan(1e-3);
    }
    expect(grow).toHaveBeenCalled();
    expect(warn).toHaveBeenCalledTimes(1);
    expect(String(warn.mock.calls[0][0])).toContain('Unable to grow instance memory');

    tf.env().set(CPU_GEMM_FLAG, 'wasm');
    expect(() => im2colConv2d(x, filter, 1, 'same')).toThrow(
        /IM2COL_CPU_GEMM is 'wasm', but the WebAssembly GEMM could not get \d+ bytes of memory/);
    expect(warn).toHaveBeenCalledTimes(1);

    // With memory to be had again, the wasm GEMM serves the call.
    grow.mockRestore();
    const actual = await im2colConv2d(x, filter, 1, 'same').data();
    expect(Math.abs(actual[100] - expected[100])).toBeLessThan(1e-3);
  });
});

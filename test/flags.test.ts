/**
 * Every value of every flag either works (results as tfjs's own kernels give them) or is
 * refused with an Error naming the flag; no value computes silently wrong results, and no
 * call leaks tensors either way. cpu backend, both GEMMs, every forward op, the useIm2col
 * switch and the gradients.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import './helpers/tfjs_gradients';
import {CPU_GEMM_FLAG, CPU_THREADS_FLAG, disposeIm2colThreads, fusedIm2colConv2d, im2colConv1d, im2colConv2d, useIm2col, WORKSPACE_BYTES_FLAG} from '../src';
import {threadedJobsRun} from '../src/cpu/threads/pool';
import {minThreadedWork, setMinThreadedWork} from '../src/cpu/threads/threaded_conv';
import {checkIm2colFlags, workspaceBytes} from '../src/config';
import {availableParallelism} from 'os';
import {Random} from './helpers/random';

const WORKSPACE_VALUES: unknown[] = [0, -1, NaN, Infinity, -Infinity, 2 ** 40, Number.MAX_VALUE,
  0.5, 1000.5, 1, 4096, 'abc', '1000', true, null];

/** The values the flag's documented rule accepts: positive whole numbers and Infinity. */
const accepted = (value: unknown) => typeof value === 'number' &&
    (value === Infinity || (Number.isInteger(value) && value > 0));

/** tf.env().set stores any value; the cast only lets the test give it non-flag types. */
function setFlag(name: string, value: unknown): void {
  tf.env().set(name, value as number);
}

const random = new Random(10);
const x = tf.tensor4d(random.values(2 * 7 * 6 * 3), [2, 7, 6, 3]);
const filter = tf.tensor4d(random.values(3 * 2 * 3 * 5), [3, 2, 3, 5]);
const bias = tf.tensor1d(random.values(5));
const x1 = tf.tensor3d(random.values(2 * 11 * 3), [2, 11, 3]);
const filter1 = tf.tensor3d(random.values(3 * 3 * 4), [3, 3, 4]);
const dy = tf.tensor4d(random.values(2 * 4 * 6 * 5), [2, 4, 6, 5]);

interface Case {
  name: string;
  /** The op under the flags; returns its outputs' values. */
  ours: () => Float32Array[];
  /** The same computation on tfjs's own kernels and gradients. */
  reference: () => Float32Array[];
}

const values = (...tensors: tf.Tensor[]) => tensors.map(t => t.dataSync() as Float32Array);

const CASES: Case[] = [
  {
    name: 'im2colConv2d',
    ours: () => tf.tidy(() => values(im2colConv2d(x, filter, [2, 1], 'same'))),
    reference: () => tf.tidy(() => values(tf.conv2d(x, filter, [2, 1], 'same'))),
  },
  {
    name: 'im2colConv1d',
    ours: () => tf.tidy(() => values(im2colConv1d(x1, filter1, 1, 'same'))),
    reference: () => tf.tidy(() => values(tf.conv1d(x1, filter1, 1, 'same'))),
  },
  {
    name: 'fusedIm2colConv2d',
    ours: () => tf.tidy(() => values(fusedIm2colConv2d(
        {x, filter, strides: [2, 1], pad: 'same', bias, activation: 'relu'}))),
    reference: () => tf.tidy(() => values(tf.fused.conv2d(
        {x, filter, strides: [2, 1], pad: 'same', bias, activation: 'relu'}))),
  },
  {
    name: 'tf.conv2d under useIm2col()',
    ours: () => {
      const restore = useIm2col({backends: ['cpu']});
      try {
        return tf.tidy(() => values(tf.conv2d(x, filter, [2, 1], 'same')));
      } finally {
        restore();
      }
    },
    reference: () => tf.tidy(() => values(tf.conv2d(x, filter, [2, 1], 'same'))),
  },
  {
    name: 'im2colConv2d gradients (dx, dfilter)',
    ours: () => tf.tidy(() => values(...tf.grads((a: tf.Tensor, b: tf.Tensor) =>
        tf.sum(tf.mul(im2colConv2d(a as tf.Tensor4D, b as tf.Tensor4D, [2, 1], 'same'), dy)))(
        [x, filter]))),
    reference: () => tf.tidy(() => values(...tf.grads((a: tf.Tensor, b: tf.Tensor) =>
        tf.sum(tf.mul(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, [2, 1], 'same'), dy)))(
        [x, filter]))),
  },
];

function expectNear(actual: Float32Array[], expected: Float32Array[], where: string): void {
  expect(actual.length).toBe(expected.length);
  for (let t = 0; t < expected.length; t++) {
    expect(actual[t].length).toBe(expected[t].length);
    let worst = 0;
    for (let i = 0; i < expected[t].length; i++) {
      const error = Math.abs(actual[t][i] - expected[t][i]);
      worst = Number.isNaN(error) ? Infinity : Math.max(worst, error);
    }
    if (!(worst < 1e-4)) throw new Error(`${where}: output ${t} is off by ${worst}`);
  }
}

/**
 * Runs `run` with the flags set; passes when it gives the reference, or when it throws an
 * error naming `flag` and the value is one the rule refuses. Returns what happened.
 */
function outcome(run: () => Float32Array[], expected: Float32Array[], flag: string,
                 where: string): 'worked' | 'refused' {
  const tensors = tf.memory().numTensors;
  let result: Float32Array[];
  try {
    result = run();
  } catch (error) {
    expect(tf.memory().numTensors).toBe(tensors);
    expect(String((error as Error).message)).toContain(flag);
    return 'refused';
  }
  expect(tf.memory().numTensors).toBe(tensors);
  expectNear(result, expected, where);
  return 'worked';
}

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const defaultThreads = tf.env().get(CPU_THREADS_FLAG);
const measuredMinThreadedWork = minThreadedWork;

afterEach(() => {
  setFlag(WORKSPACE_BYTES_FLAG, 64 * 2 ** 20);
  setFlag(CPU_GEMM_FLAG, 'auto');
  setFlag(CPU_THREADS_FLAG, defaultThreads);
  setMinThreadedWork(measuredMinThreadedWork);
});

afterAll(() => disposeIm2colThreads());

describe.each(['wasm', 'typescript'])('%s GEMM: IM2COL_WORKSPACE_BYTES', gemm => {
  describe.each(CASES)('$name', ({name, ours, reference}) => {
    const expected = reference();

    it.each(WORKSPACE_VALUES.map(v => [v]))('value %p works or is refused', value => {
      setFlag(CPU_GEMM_FLAG, gemm);
      setFlag(WORKSPACE_BYTES_FLAG, value);
      const what = outcome(ours, expected, WORKSPACE_BYTES_FLAG, `${gemm} ${name} ${String(value)}`);
      expect(what).toBe(accepted(value) ? 'worked' : 'refused');
    });
  });
});

describe('the refusals', () => {
  it.each(WORKSPACE_VALUES.filter(v => !accepted(v)).map(v => [v]))(
      '%p: workspaceBytes() and checkIm2colFlags() throw, showing the value', value => {
        setFlag(WORKSPACE_BYTES_FLAG, value);
        const shown = typeof value === 'string' ? `"${value}" (string)` :
            value === null ? 'null' : `${String(value)} (${typeof value})`;
        const message = `${WORKSPACE_BYTES_FLAG} must be a positive whole number of bytes ` +
            `(or Infinity for no bound), but is ${shown}.`;
        expect(() => workspaceBytes()).toThrow(message);
        expect(() => checkIm2colFlags()).toThrow(message);
      });

  it('accepted values pass checkIm2colFlags() and come back as they are', () => {
    for (const value of WORKSPACE_VALUES.filter(accepted)) {
      setFlag(WORKSPACE_BYTES_FLAG, value);
      expect(() => checkIm2colFlags()).not.toThrow();
      expect(workspaceBytes()).toBe(value);
    }
  });
});

describe('IM2COL_CPU_GEMM', () => {
  const GEMM_VALUES: unknown[] = ['auto', 'wasm', 'typescript', 'gpu', '', 'WASM', 0, 1, NaN,
    true, null];
  const valid = (value: unknown) => value === 'auto' || value === 'wasm' || value === 'typescript';

  describe.each(CASES)('$name', ({name, ours, reference}) => {
    const expected = reference();
    it.each(GEMM_VALUES.map(v => [v]))('value %p works or is refused', value => {
      setFlag(CPU_GEMM_FLAG, value);
      const what = outcome(ours, expected, CPU_GEMM_FLAG, `${name} ${String(value)}`);
      expect(what).toBe(valid(value) ? 'worked' : 'refused');
      if (!valid(value)) expect(() => checkIm2colFlags()).toThrow(CPU_GEMM_FLAG);
    });
  });

  it('a refusal shows the value and its type', () => {
    setFlag(CPU_GEMM_FLAG, NaN);
    expect(() => checkIm2colFlags()).toThrow(
        `${CPU_GEMM_FLAG} must be 'auto', 'wasm' or 'typescript', but is NaN (number).`);
    setFlag(CPU_GEMM_FLAG, 'gpu');
    expect(() => checkIm2colFlags()).toThrow(`but is "gpu" (string).`);
  });
});

describe('IM2COL_CPU_THREADS', () => {
  const THREAD_VALUES: unknown[] = [1, 2, 3, 8, 64, 0, -1, 65, 1.5, NaN, Infinity, '2', true, null];
  const valid = (value: unknown) =>
      typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= 64;

  it('defaults to the cores Node reports, at most 8', () => {
    expect(defaultThreads).toBe(Math.min(8, availableParallelism()));
  });

  describe.each(CASES)('$name', ({name, ours, reference}) => {
    const expected = reference();
    it.each(THREAD_VALUES.map(v => [v]))('value %p works or is refused', value => {
      setFlag(CPU_GEMM_FLAG, 'wasm');
      setFlag(CPU_THREADS_FLAG, value);
      // 2 and 3 threads take every product, so these small cases really split; larger counts
      // keep the measured threshold (no pool of 64 workers for a test).
      if (value === 2 || value === 3) setMinThreadedWork(0);
      const jobs = threadedJobsRun();
      const what = outcome(ours, expected, CPU_THREADS_FLAG, `${name} ${String(value)}`);
      expect(what).toBe(valid(value) ? 'worked' : 'refused');
      if (value === 2 || value === 3) expect(threadedJobsRun()).toBeGreaterThan(jobs);
      if (!valid(value)) expect(() => checkIm2colFlags()).toThrow(CPU_THREADS_FLAG);
    });
  });

  it('a refusal shows the value and its type', () => {
    setFlag(CPU_THREADS_FLAG, 0);
    expect(() => checkIm2colFlags()).toThrow(
        `${CPU_THREADS_FLAG} must be a whole number from 1 to 64, but is 0 (number).`);
    setFlag(CPU_THREADS_FLAG, '4');
    expect(() => checkIm2colFlags()).toThrow(`but is "4" (string).`);
  });
});

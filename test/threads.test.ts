/**
 * The CPU kernels' worker threads (IM2COL_CPU_THREADS) in Node, beyond the shared bodies'
 * sweeps at 2 and 3 threads (test/shared_bodies.test.ts): a soak with flat memory, a worker
 * that dies holding its share of a call, the flag changed between calls, and a process that
 * exits by itself after using threads. References: tfjs's own cpu kernels.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import {spawnSync} from 'child_process';
import path from 'path';
import './helpers/tfjs_gradients';
import {CPU_THREADS_FLAG, disposeIm2colThreads, im2colConv2d, kernelStats, resetKernelStats, useIm2col} from '../src';
import {Control} from '../src/cpu/threads/control';
import {currentThreadPool, threadedJobsRun} from '../src/cpu/threads/pool';
import {minThreadedWork, setMinThreadedWork} from '../src/cpu/threads/threaded_conv';
import {Random} from './helpers/random';

const random = new Random(1313);
// Large enough for the measured threshold: these calls go to the threads by themselves.
const x = tf.tensor4d(random.values(2 * 28 * 28 * 32), [2, 28, 28, 32]);
const filter = tf.tensor4d(random.values(3 * 3 * 32 * 48), [3, 3, 32, 48]);
const reference = tf.conv2d(x, filter, 1, 'same');
const referenceValues = reference.dataSync();
const measuredMinThreadedWork = minThreadedWork;

function expectReference(y: tf.Tensor): void {
  const values = y.dataSync();
  let worst = 0;
  for (let i = 0; i < values.length; i++) {
    worst = Math.max(worst, Math.abs(values[i] - referenceValues[i]) /
                            Math.max(1, Math.abs(referenceValues[i])));
  }
  expect(worst).toBeLessThan(1e-5);
}

beforeAll(async () => {
  await tf.setBackend('cpu');
});

afterEach(() => {
  tf.env().set(CPU_THREADS_FLAG, 2);
  jest.restoreAllMocks();
});

afterAll(() => disposeIm2colThreads());

it('a call large enough goes to the threads, and gives tfjs\'s result', () => {
  tf.env().set(CPU_THREADS_FLAG, 2);
  resetKernelStats();
  const jobs = threadedJobsRun();
  // Each call is a job for the threads; on a loaded machine the caller may finish one before
  // the worker is scheduled (then it ran on one thread, and is not counted as threaded).
  let calls = 0;
  for (; calls < 20 && kernelStats().threadedProducts === 0; calls++) {
    const y = im2colConv2d(x, filter, 1, 'same');
    expectReference(y);
    y.dispose();
  }
  expect(threadedJobsRun()).toBe(jobs + calls);
  expect(kernelStats().threadedProducts).toBe(1);
  expect(currentThreadPool()?.threads).toBe(2);
});

it('1,000 calls leave tf.memory() and the resident set flat', () => {
  tf.env().set(CPU_THREADS_FLAG, 2);
  const run = () => im2colConv2d(x, filter, 1, 'same').dispose();
  for (let i = 0; i < 50; i++) run();
  const before = {memory: tf.memory(), rss: process.memoryUsage().rss};
  const jobs = threadedJobsRun();
  for (let i = 0; i < 1000; i++) run();
  expect(threadedJobsRun() - jobs).toBe(1000);
  const after = {memory: tf.memory(), rss: process.memoryUsage().rss};
  expect(after.memory.numTensors).toBe(before.memory.numTensors);
  expect(after.memory.numBytes).toBe(before.memory.numBytes);
  // The shared memory keeps its size; garbage the calls leave is collected lazily.
  expect(after.rss - before.rss).toBeLessThan(64 * 2 ** 20);
}, 120000);

it('a worker that dies holding its share of a call: one warning, the right result, no hang; ' +
   'one thread until disposeIm2colThreads()', () => {
  tf.env().set(CPU_THREADS_FLAG, 2);
  im2colConv2d(x, filter, 1, 'same').dispose();
  const pool = currentThreadPool()!;
  expect(pool.readyWorkers()).toBe(1);
  const warn = jest.spyOn(console, 'warn').mockImplementation(() => {});
  // Worker 1 takes a ticket of the next call it gets one of, and exits without doing it.
  Atomics.store(pool.control, Control.DIE, 2);
  for (let call = 0; call < 20 && warn.mock.calls.length === 0; call++) {
    const start = Date.now();
    const y = im2colConv2d(x, filter, 1, 'same');
    expectReference(y);
    y.dispose();
    expect(Date.now() - start).toBeLessThan(10000);
  }
  expect(warn).toHaveBeenCalledTimes(1);
  expect(String(warn.mock.calls[0][0])).toMatch(/^tfjs-im2col: the CPU kernels run on one thread: .*worker thread/);
  // Later calls stay on this thread, without another warning.
  const jobs = threadedJobsRun();
  for (let i = 0; i < 3; i++) {
    const z = im2colConv2d(x, filter, 1, 'same');
    expectReference(z);
    z.dispose();
  }
  expect(threadedJobsRun()).toBe(jobs);
  expect(warn).toHaveBeenCalledTimes(1);
  disposeIm2colThreads();
  const z = im2colConv2d(x, filter, 1, 'same');
  expectReference(z);
  z.dispose();
  expect(threadedJobsRun()).toBe(jobs + 1);
}, 60000);

it('the flag changed between calls: each call runs on the threads it says', () => {
  for (const threads of [2, 3, 1, 4, 2]) {
    tf.env().set(CPU_THREADS_FLAG, threads);
    const jobs = threadedJobsRun();
    const y = im2colConv2d(x, filter, 1, 'same');
    expectReference(y);
    y.dispose();
    expect(threadedJobsRun() - jobs).toBe(threads > 1 ? 1 : 0);
    if (threads > 1) expect(currentThreadPool()?.threads).toBe(threads);
  }
});

it('gradients under useIm2col() on 2 threads match tfjs\'s', () => {
  tf.env().set(CPU_THREADS_FLAG, 2);
  // Smaller than x (tfjs's cpu filter gradient takes seconds there): every product threaded.
  const xs = tf.tensor4d(random.values(1 * 14 * 14 * 16), [1, 14, 14, 16]);
  const filters = tf.tensor4d(random.values(3 * 3 * 16 * 24), [3, 3, 16, 24]);
  const f = (a: tf.Tensor, b: tf.Tensor) =>
      tf.sum(tf.square(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 2, 'same')));
  const expected = tf.grads(f)([xs, filters]);
  const restore = useIm2col();
  const jobs = threadedJobsRun();
  setMinThreadedWork(0);
  let got: tf.Tensor[];
  try {
    got = tf.grads(f)([xs, filters]);
  } finally {
    restore();
    setMinThreadedWork(measuredMinThreadedWork);
  }
  expect(threadedJobsRun()).toBeGreaterThan(jobs);
  for (let i = 0; i < 2; i++) {
    const scale = tf.max(tf.abs(expected[i])).dataSync()[0];
    const error = tf.max(tf.abs(tf.sub(got[i], expected[i]))).dataSync()[0];
    expect(error / scale).toBeLessThan(1e-5);
  }
  tf.dispose([...expected, ...got, xs, filters]);
});

it('a Node process that used the threads exits by itself', () => {
  const root = path.join(__dirname, '..');
  const script = `
    const tf = require('@tensorflow/tfjs-core');
    require('@tensorflow/tfjs-backend-cpu');
    const lib = require(${JSON.stringify(path.join(root, 'dist', 'index.cjs'))});
    tf.setBackend('cpu').then(() => {
      tf.env().set('IM2COL_CPU_THREADS', 2);
      const x = tf.ones([1, 56, 56, 64]), w = tf.ones([3, 3, 64, 64]);
      for (let i = 0; i < 5; i++) lib.im2colConv2d(x, w, 1, 'same').dispose();
      console.log('threaded products', lib.kernelStats().threadedProducts);
    });`;
  const start = Date.now();
  const child = spawnSync(process.execPath, ['-e', script], {cwd: root, timeout: 60000, encoding: 'utf8'});
  expect(child.error).toBeUndefined();
  expect(child.status).toBe(0);
  expect(child.stdout).toContain('threaded products 5');
  expect(Date.now() - start).toBeLessThan(30000);
}, 70000);

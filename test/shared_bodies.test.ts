/**
 * The shared test bodies (test/shared/) on every Node target of test/shared/targets.ts: the
 * parity sweep, errors and leaks, the fused op and gradients, with the assertions of
 * test/shared/suites.ts. The browser targets run in test/browser/shared_bodies.test.ts.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import './helpers/tfjs_gradients';
import * as lib from '../src';
import {bodies} from './shared';
import {Call, sharedSuites} from './shared/suites';
import {targetsIn} from './shared/targets';
import {threadedJobsRun} from '../src/cpu/threads/pool';
import {minThreadedWork, setMinThreadedWork} from '../src/cpu/threads/threaded_conv';

const measuredMinThreadedWork = minThreadedWork;

const targets = targetsIn('node');

it('every CPU GEMM path of the Node targets is available here', () => {
  const wanted = targets.map(t => t.flags[lib.CPU_GEMM_FLAG]).filter(g => g != null);
  expect(lib.availableCpuGemms()).toEqual(expect.arrayContaining(wanted));
  expect(lib.availableCpuGemms().sort()).toEqual(['typescript', 'wasm']);
});

describe.each(targets)('$name', target => {
  const saved: Record<string, unknown> = {};
  beforeAll(async () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    for (const module of target.modules ?? []) require(module);
    // Bodies switch to cpu for references: both backends initialised.
    if (!(await tf.setBackend('cpu')) || !(await tf.setBackend(target.backend))) {
      throw new Error(`backend ${target.backend} failed to start`);
    }
    for (const [flag, value] of Object.entries(target.flags)) {
      saved[flag] = tf.env().get(flag);
      tf.env().set(flag, value);
    }
    if (target.threadsEveryProduct) setMinThreadedWork(0);
    jobsBefore = threadedJobsRun();
  });
  let jobsBefore = 0;
  afterAll(() => {
    for (const [flag, value] of Object.entries(saved)) tf.env().set(flag, value as never);
    setMinThreadedWork(measuredMinThreadedWork);
  });

  const call = (async (name: keyof typeof bodies, arg?: unknown) =>
      (bodies[name] as (t: typeof tf, l: typeof lib, a: unknown) => unknown)(tf, lib, arg)) as Call;
  sharedSuites(target, {call, tolerance: () => target.tolerance, parityBatch: Infinity, timeout: 120000});

  if (target.threadsEveryProduct) {
    it('ran the products on the worker threads', () => {
      expect(threadedJobsRun() - jobsBefore).toBeGreaterThan(1000);
    });
  }
});

afterAll(() => lib.disposeIm2colThreads());

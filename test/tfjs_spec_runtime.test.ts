/**
 * The runtime that hosts tfjs-core's spec files (helpers/tfjs_spec_runtime.ts), on small
 * hand-written spec files: tfjs's environment flags exclude and select as jasmine_util does,
 * failures anywhere in a spec's life are reported, imports outside the map fail loudly, and
 * toThrowError keeps jasmine's semantics. The suites' green results mean something only if
 * these hold.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import {addJasmineMatchers} from './helpers/tfjs_core_suites';
import {collectSuite, countSpecs, jasmineExpect, jasmineToThrowError, runBlocks, SpecSource, TestEnv} from './helpers/tfjs_spec_runtime';

// tfjs's test_util calls expect().nothing(), a jasmine matcher.
addJasmineMatchers();

const CPU: TestEnv = {name: 'cpu', backendName: 'cpu', isDataSync: true};

/** A spec file as esbuild's CommonJS output of `ops/x_test.js` would require its modules. */
function spec(body: string): SpecSource {
  return {
    path: 'ops/x_test.js',
    code: `const tf = require('../index');
           const {ALL_ENVS, NODE_ENVS, BROWSER_ENVS, SYNC_BACKEND_ENVS, describeWithFlags} =
               require('../jasmine_util');
           const {expectArraysClose} = require('../test_util');
           ${body}`
  };
}

describe('tfjs_spec_runtime', () => {
  it("honours tfjs's constraints: excluded specs are counted, not collected", () => {
    const collected = collectSuite(tf, spec(`
      describeWithFlags('browser only', BROWSER_ENVS, () => { it('a', () => {}); it('b', () => {}); });
      describeWithFlags('node only', NODE_ENVS, () => { it('c', () => {}); });
      describeWithFlags('sync', SYNC_BACKEND_ENVS, () => { describe('inner', () => { it('d', () => {}); }); });
      describeWithFlags('flag', {flags: {IS_TEST: false}}, () => { it('e', () => {}); });`), CPU);
    expect(collected.excluded).toBe(3);
    expect(collected.blocks.map(b => [b.name, countSpecs(b)]))
        .toEqual([['node only cpu {}', 1], ['sync cpu {}', 1]]);
  });

  it('runs specs against the given tfjs and reports every kind of failure', async () => {
    const collected = collectSuite(tf, spec(`
      describeWithFlags('s', ALL_ENVS, () => {
        it('passes', async () => { expectArraysClose(await tf.add(1, 2).data(), [3]); });
        it('fails', async () => { expectArraysClose(await tf.add(1, 2).data(), [4]); });
        it('rejects', () => Promise.reject(new Error('rejected')));
        it('calls done.fail', done => { setTimeout(() => done.fail('no')); });
        it('calls done', done => { setTimeout(done); });
        describe('hooked', () => {
          afterEach(() => { throw new Error('afterEach threw'); });
          it('fails in afterEach', () => {});
        });
        describe('unready', () => {
          beforeAll(() => { throw new Error('beforeAll threw'); });
          it('x', () => {});
          it('y', () => {});
        });
      });`), CPU);
    const outcomes = await runBlocks(collected.blocks);
    const failed = Object.fromEntries(outcomes.map(o => [o.name.replace('s cpu {} ', ''),
                                                         o.error?.split('\n')[0] ?? 'passed']));
    expect(failed).toEqual({
      'passes': 'passed',
      'fails': expect.stringContaining('Arrays differ'),
      'rejects': 'rejected',
      'calls done.fail': 'done.fail(no)',
      'calls done': 'passed',
      'hooked fails in afterEach': 'afterEach threw',
      'unready x': 'beforeAll: beforeAll threw',
      'unready y': 'beforeAll: beforeAll threw',
    });
  });

  it('refuses an import of a tfjs-core module it does not map', () => {
    expect(() => collectSuite(tf, {path: 'ops/x_test.js', code: `require('../engine');`}, CPU))
        .toThrow(/imports '..\/engine' \(tfjs-core's engine\)/);
  });

  it("keeps jasmine's toThrowError semantics (an exact string, a RegExp, an Error type)", () => {
    const boom = () => {
      throw new TypeError('bad rank 4');
    };
    expect(jasmineToThrowError(boom).pass).toBe(true);
    expect(jasmineToThrowError(boom, 'bad rank 4').pass).toBe(true);
    expect(jasmineToThrowError(boom, 'rank 4').pass).toBe(false);
    expect(jasmineToThrowError(boom, /rank 4/).pass).toBe(true);
    expect(jasmineToThrowError(boom, RangeError).pass).toBe(false);
    expect(jasmineToThrowError(boom, TypeError, /rank/).pass).toBe(true);
    expect(jasmineToThrowError(() => undefined).pass).toBe(false);
    expect(jasmineToThrowError(() => {
      throw 'a string';  // eslint-disable-line no-throw-literal
    }).pass).toBe(false);
    // The page's expect: matchers throw on failure, `.not` inverts.
    expect(() => jasmineExpect([1, 2]).toEqual([1, 2])).not.toThrow();
    expect(() => jasmineExpect([1, 2]).toEqual([1, 3])).toThrow('to equal');
    expect(() => jasmineExpect(new Float32Array([1])).toEqual([1])).toThrow('to equal');
    expect(() => jasmineExpect('float32').not.toBe('int32')).not.toThrow();
    expect(() => jasmineExpect(boom).toThrowError(/nope/)).toThrow('matching /nope/');
  });
});

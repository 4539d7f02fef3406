/**
 * The jest side of the shared bodies: one describe block per target, each test calling a
 * body (in Node or in the page, through `call`) and asserting on what it returns, so every
 * backend meets the same assertions. Used by test/shared_bodies.test.ts (Node) and
 * test/browser/shared_bodies.test.ts (the page).
 */
import type {Bodies, BodyName} from './index';
import {ownReferenceRuns, ParityResult} from './parity';
import type {GradCheck} from './gradients';
import type {FamilyResult} from './family';
import type {Target} from './targets';

type ArgOf<N extends BodyName> = Parameters<Bodies[N]> extends [unknown, unknown, infer A] ? A :
    Parameters<Bodies[N]> extends [unknown, unknown, (infer A)?] ? A : undefined;
/** Runs a body on the target's backend, wherever the target lives. */
export type Call = <N extends BodyName>(name: N, arg?: ArgOf<N>) =>
    Promise<Awaited<ReturnType<Bodies[N]>>>;

export interface Runner {
  call: Call;
  /** Tolerances in force (the page may widen them for half-float textures). */
  tolerance: () => Target['tolerance'];
  /** Parity cases per call (the page runs them in batches). */
  parityBatch: number;
  /** Test timeout, ms. */
  timeout: number;
}

const NUMERICAL_TOLERANCE = 5e-3;

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * `op: argument 'arg' ... but got <value>`: the argument named and the value given shown
 * (a value is not part of a longer number or word); `also` must appear anywhere.
 */
function argError(op: string, arg: string, value: string | null, ...also: string[]): RegExp {
  const got = value == null ? '' : `[^]*?(?<![\\w.-])${escape(value)}(?!\\w|\\.\\d)`;
  const anywhere = also.map(a => `(?=[^]*${escape(a)})`).join('');
  return new RegExp(`^${anywhere}${escape(op)}: argument '${escape(arg)}'[^]*\\bbut got\\b${got}`);
}

/** What each bad call of shared/errors.ts must say. */
const ERRORS: Record<string, RegExp> = {
  'x of rank 2': argError('im2colConv2d', 'x', 'rank 2'),
  'x of rank 5': argError('im2colConv2d', 'x', 'rank 5'),
  'filter of rank 3': argError('im2colConv2d', 'filter', 'rank 3'),
  'channel mismatch': argError('im2colConv2d', 'filter', '[2,2,5,4]'),
  'channel mismatch NCHW': argError('im2colConv2d', 'filter', '[2,2,5,4]'),
  'stride 0': argError('im2colConv2d', 'strides', '0'),
  'stride 1.5': argError('im2colConv2d', 'strides', '1.5'),
  'stride triple': argError('im2colConv2d', 'strides', '[1,1,1]'),
  'negative dilation': argError('im2colConv2d', 'dilations', '[1,-2]'),
  'dilation NaN': argError('im2colConv2d', 'dilations', 'NaN'),
  'stride Infinity': argError('im2colConv2d', 'strides', '[1,Infinity]'),
  'pad NaN': argError('im2colConv2d', 'pad', 'NaN'),
  'pad too large for a tensor': argError('im2colConv2d', 'pad', '1000000', '[1,2000004,2000004,4]'),
  'explicit pad too large for a tensor': argError('im2colConv2d', 'pad', '[[0,0],[50000,50000],[50000,50000],[0,0]]'),
  'pad -1': argError('im2colConv2d', 'pad', '-1'),
  'pad 0.5': argError('im2colConv2d', 'pad', '0.5'),
  'pad string': argError('im2colConv2d', 'pad', '"full"'),
  'explicit pad of 3 pairs': argError('im2colConv2d', 'pad', '[[0,0],[1,1],[1,1]]'),
  'explicit pad on channels': argError('im2colConv2d', 'pad', '[[0,0],[1,1],[1,1],[1,0]]'),
  'explicit pad negative': argError('im2colConv2d', 'pad', '[[0,0],[1,-1],[1,1],[0,0]]'),
  'explicit NCHW pad in NHWC order': argError('im2colConv2d', 'pad', '[[0,0],[1,1],[1,1],[0,0]]', 'NCHW'),
  'data format': argError('im2colConv2d', 'dataFormat', '"NWHC"'),
  'int32 x': argError('im2colConv2d', 'x', 'int32'),
  'bool filter': argError('im2colConv2d', 'filter', 'bool'),
  'x null': argError('im2colConv2d', 'x', 'null'),
  // Not a value but a combination: both must be named.
  'rounding with same': /^(?=[^]*floor)(?=[^]*same)im2colConv2d: argument 'dimRoundingMode'[^]*'pad'/,
  'unknown rounding': argError('im2colConv2d', 'dimRoundingMode', '"up"'),
  'filter does not fit': /^im2colConv2d: [^]*\b5x5\b[^]*fit/,
  'arrays converted, then stride 0': argError('im2colConv2d', 'strides', '0'),
  'conv1d x of rank 4': argError('im2colConv1d', 'x', 'rank 4'),
  'conv1d filter of rank 4': argError('im2colConv1d', 'filter', 'rank 4'),
  'conv1d channel mismatch': argError('im2colConv1d', 'filter', '[3,2,4]'),
  'conv1d pad too large for a tensor': argError('im2colConv1d', 'pad', '[[0,0],[2000000000,2000000000],[0,0]]'),
  'im2col patch matrix too large for a tensor': argError('im2col', 'filterSize', '40', '[1,933156,4800]'),
  'conv1d stride pair': argError('im2colConv1d', 'stride', '[1,1]'),
  'conv1d dilation 0': argError('im2colConv1d', 'dilation', '0'),
  'conv1d pad -2': argError('im2colConv1d', 'pad', '-2'),
  'conv1d pad string': argError('im2colConv1d', 'pad', '"full"'),
  'conv1d explicit pad in 2D form': argError('im2colConv1d', 'pad', '[[0,0],[0,0],[1,1],[0,0]]', 'NWC'),
  'conv1d data format': argError('im2colConv1d', 'dataFormat', '"NHWC"'),
  'conv1d int32 x': argError('im2colConv1d', 'x', 'int32'),
  'im2col filterSize 0': argError('im2col', 'filterSize', '0'),
  'im2col filterSize triple': argError('im2col', 'filterSize', '[1,2,3]'),
  'im2col rank 2': argError('im2col', 'x', 'rank 2'),
  'im2col pad': argError('im2col', 'pad', '"full"'),
  'explainConv2d batch of 2': argError('explainConv2d', 'x', '[2,5,5,3]'),
  'explainConv2d filter rank': argError('explainConv2d', 'filter', 'rank 3'),
  'explainConv1d batch of 2': argError('explainConv1d', 'x', '[2,10,3]'),
  'explainConv1d stride': argError('explainConv1d', 'stride', '-1'),
  'fused unknown activation': argError('fusedIm2colConv2d', 'activation', '"tanh"'),
  'fused bias of the wrong length': argError('fusedIm2colConv2d', 'bias', '[3]'),
  'fused rank-2 bias for NCHW': argError('fusedIm2colConv2d', 'bias', '[1,4]'),
  'fused prelu without weights': argError('fusedIm2colConv2d', 'preluActivationWeights', 'none'),
  'fused prelu weights of the wrong shape': argError('fusedIm2colConv2d', 'preluActivationWeights', '[2,4]'),
  'fused non-number leakyreluAlpha': argError('fusedIm2colConv2d', 'leakyreluAlpha', '"0.1"'),
  'fused int32 bias': argError('fusedIm2colConv2d', 'bias', 'int32'),
  'fused filter channels mismatch': argError('fusedIm2colConv2d', 'filter', '[2,2,2,4]'),
  'groups not dividing outChannels': argError('im2colConv2d', 'filter', '[2,2,2,3]', 'groups'),
  'conv1d groups not dividing inChannels': argError('im2colConv1d', 'filter', '[3,3,4]'),
  'depthwise channel mismatch': argError('im2colDepthwiseConv2d', 'filter', '[2,2,4,1]'),
  'depthwise filter of rank 3': argError('im2colDepthwiseConv2d', 'filter', 'rank 3'),
  'depthwise stride 0': argError('im2colDepthwiseConv2d', 'strides', '0'),
  'depthwise data format': argError('im2colDepthwiseConv2d', 'dataFormat', '"HWC"'),
  'fused depthwise bias of the wrong length': argError('fusedIm2colDepthwiseConv2d', 'bias', '[5]'),
  'transpose outputShape that does not convolve to x': argError('im2colConv2dTranspose', 'outputShape', '[1,6,6,3]', '[1,4,4,4]'),
  'transpose outputShape of another rank': argError('im2colConv2dTranspose', 'outputShape', '[5,5,3]'),
  'transpose filter channels mismatch': argError('im2colConv2dTranspose', 'filter', '[2,2,3,5]'),
  'transpose groups not dividing': argError('im2colConv2dTranspose', 'filter', '[2,2,2,4]'),
  'conv3d x of rank 3': argError('im2colConv3d', 'x', 'rank 3'),
  'conv3d numeric pad': argError('im2colConv3d', 'pad', '1'),
  'conv3d stride pair': argError('im2colConv3d', 'strides', '[1,1]'),
  'conv3d data format': argError('im2colConv3d', 'dataFormat', '"NHWC"'),
  'conv3d channel mismatch': argError('im2colConv3d', 'filter', '[2,2,2,4,4]'),
  'conv3d dilation 0': argError('im2colConv3d', 'dilations', '[1,0,1]'),
};

/** Throws on the first check over `tolerance` (its message names the case); returns the worst. */
function expectChecks(checks: GradCheck[], tolerance: number): number {
  let worst = 0;
  for (const c of checks) {
    expect({what: c.what, shape: c.shape}).toEqual({what: c.what, shape: c.expectedShape});
    if (!(c.error <= tolerance)) throw new Error(`${c.what}: relative error ${c.error} > ${tolerance}`);
    worst = Math.max(worst, c.error);
  }
  return worst;
}

function expectParity(results: ParityResult[], tolerance: number): {worstCpu: number, worstOwn: number} {
  let worstCpu = 0, worstOwn = 0;
  for (const r of results) {
    expect({case: r.label, shape: r.shape}).toEqual({case: r.label, shape: r.expectedShape});
    expect({case: r.label, leakedTensors: r.leakedTensors, leakedBytes: r.leakedBytes})
        .toEqual({case: r.label, leakedTensors: 0, leakedBytes: 0});
    if (!(r.cpuError <= tolerance && (r.ownError ?? 0) <= tolerance)) {
      throw new Error(`case ${r.index}: error ${r.cpuError} (vs cpu) / ${r.ownError} (vs own backend) ` +
                      `for ${r.label}`);
    }
    worstCpu = Math.max(worstCpu, r.cpuError);
    worstOwn = Math.max(worstOwn, r.ownError ?? 0);
  }
  return {worstCpu, worstOwn};
}

export function sharedSuites(target: Target, runner: Runner): void {
  const {call, timeout} = runner;
  const n = target.cases;
  const tol = () => runner.tolerance();
  const sizes = {maxInputSize: n.gradMaxInputSize, referenceBackend: target.referenceBackend};

  const ownReference = {ownReferenceEvery: n.ownReferenceEvery,
                        ownReferenceIsTfjsWasm: target.ownReferenceIsTfjsWasm};

  async function paritySweep(kind: 'conv2d' | 'conv1d', seed: number, count: number) {
    const results: ParityResult[] = [];
    for (let from = 0; from < count; from += runner.parityBatch) {
      const to = Math.min(count, from + runner.parityBatch);
      const batch = await call('parity', {kind, seed, from, to, ...ownReference});
      expect(batch.map(r => r.index)).toEqual(Array.from({length: to - from}, (_, i) => from + i));
      results.push(...batch);
    }
    const worst = expectParity(results, tol().forward);
    const ownChecked = results.filter(r => r.ownError != null).length;
    if (target.backend !== 'cpu') {
      const due = results.filter(r => ownReferenceRuns(ownReference, r.index, JSON.parse(r.label)));
      expect(ownChecked).toBe(due.length);
      expect(due.length).toBeGreaterThanOrEqual(Math.floor(count / n.ownReferenceEvery / 2));
    }
    const cases = results.map(r => JSON.parse(r.label));
    console.log(`${target.name}, ${kind} sweep: ${count} cases, worst relative error ` +
                `${worst.worstCpu.toExponential(2)} vs tf.conv2d on cpu` +
                (ownChecked ? `, ${worst.worstOwn.toExponential(2)} vs ${target.backend} ` +
                              `(${ownChecked} cases)` : ''));
    return cases;
  }

  describe('parity: im2colConv2d / im2colConv1d vs tf.conv2d', () => {
    it(`agrees on ${n.parityConv2d} random conv2d configurations`, async () => {
      const cases = await paritySweep('conv2d', 20190401, n.parityConv2d);
      const count = (f: (c: any) => boolean) => cases.filter(f).length; // eslint-disable-line @typescript-eslint/no-explicit-any
      const spatial = (c: any) => c.dataFormat === 'NHWC' ? c.xShape.slice(1, 3) : c.xShape.slice(2, 4); // eslint-disable-line @typescript-eslint/no-explicit-any
      const coverage = {
        nchw: count(c => c.dataFormat === 'NCHW'), explicit: count(c => Array.isArray(c.pad)),
        numeric: count(c => typeof c.pad === 'number'), same: count(c => c.pad === 'same'),
        sameEvenKernel: count(c => c.pad === 'same' && (c.filterShape[0] % 2 === 0 || c.filterShape[1] % 2 === 0)),
        strideAndDilation: count(c => Math.max(...c.strides) > 1 && Math.max(...c.dilations) > 1),
        batchOver1: count(c => c.xShape[0] > 1), rank3: count(c => c.rank3),
        packedInput: count(c => c.packedInput), rounding: count(c => c.dimRoundingMode != null),
        oddInChannels: count(c => c.filterShape[2] % 2 === 1),
        kernelLargerThanInput: count(c => c.filterShape[0] > spatial(c)[0] || c.filterShape[1] > spatial(c)[1]),
      };
      console.log(`${target.name}, conv2d coverage ${JSON.stringify(coverage)}`);
      for (const value of Object.values(coverage)) expect(value).toBeGreaterThan(10);
    }, timeout);

    it(`agrees on ${n.parityConv1d} random conv1d configurations`, async () => {
      const cases = await paritySweep('conv1d', 1245, n.parityConv1d);
      const pads = cases.map(c => Array.isArray(c.pad) ? 'explicit' : typeof c.pad === 'number' ? 'number' : String(c.pad));
      for (const kind of ['valid', 'same', 'causal', 'number', 'explicit']) {
        expect({kind, over5: pads.filter(p => p === kind).length > 5}).toEqual({kind, over5: true});
      }
      expect(cases.filter(c => c.dataFormat === 'NCW').length).toBeGreaterThan(20);
      expect(cases.filter(c => c.rank3).length).toBeGreaterThan(5);
    }, timeout);
  });

  describe('errors and leaks', () => {
    it('bad arguments throw an Error naming the argument and the value, leaking nothing', async () => {
      const results = await call('argumentErrors');
      expect(results.map(r => r.name).sort()).toEqual(Object.keys(ERRORS).sort());
      for (const r of results) {
        expect({name: r.name, message: r.message}).toEqual({name: r.name, message: expect.stringMatching(ERRORS[r.name])});
        expect({name: r.name, leakedTensors: r.leakedTensors, leakedBytes: r.leakedBytes})
            .toEqual({name: r.name, leakedTensors: 0, leakedBytes: 0});
      }
    }, timeout);

    it('each op leaves exactly its results behind, and nothing once they are disposed', async () => {
      const results = await call('opMemory');
      expect(results.length).toBe(9);
      for (const r of results) {
        expect(r).toEqual({name: r.name, added: r.expected, expected: r.expected, leakedTensors: 0, leakedBytes: 0});
      }
    }, timeout);

    it('valid but unusual input gives tf.conv2d\'s results', async () => {
      const results = await call('unusualInput', {tolerance: tol().forward});
      expect(results.length).toBe(8);
      for (const r of results) {
        expect(r).toEqual({name: r.name, shape: r.expectedShape, expectedShape: r.expectedShape, mismatches: 0});
      }
    }, timeout);
  });

  describe('fusedIm2colConv2d', () => {
    it(`agrees with tf.fused.conv2d on ${n.fused} cases: every activation, bias and PReLU-weights shape`, async () => {
      const results = await call('fusedVsTfjs', {seed: 123, count: n.fused});
      expect(results.length).toBe(n.fused);
      const worst = expectChecks(results.map(r => ({what: `case ${r.index} ${r.label}`, ...r})), tol().forward);
      console.log(`${target.name}, fused conv2d: worst relative error ${worst.toExponential(2)}`);
    }, timeout);

    it(`agrees with tf.conv2d + bias + activation where tfjs has no fused path (${n.fusedNoTfjsPath} cases)`, async () => {
      const results = await call('fusedNoTfjsPath', {seed: 321, count: n.fusedNoTfjsPath,
                                                   referenceBackend: target.referenceBackend});
      expect(results.length).toBe(n.fusedNoTfjsPath);
      expectChecks(results.map(r => ({what: `case ${r.index} ${r.label}`, ...r})), tol().forward);
      // 10 NCHW and 3 strided-and-dilated cases in 70 (as many per case on smaller sweeps).
      expect(results.filter(r => r.nchw).length).toBeGreaterThan(n.fusedNoTfjsPath / 7);
      expect(results.filter(r => r.stridedDilated).length).toBeGreaterThan(n.fusedNoTfjsPath * 3 / 70);
    }, timeout);

    it('applies bias and activation in its own kernel (no other kernel runs)', async () => {
      const {kernels, calls} = await call('fusedKernelsRun');
      // The op's custom-gradient wrapper shows up under the op's name.
      expect(kernels.filter(name => name !== 'fusedIm2colConv2d__op')).toEqual(['FusedIm2colConv2D']);
      expect(calls[`FusedIm2colConv2D/${target.backend}`]).toBe(1);
    }, timeout);

    it('uses tf.leakyRelu\'s default slope (0.2) without leakyreluAlpha; takes a rank-3 x', async () => {
      const got = await call('fusedDefaults');
      expect(got.leakyError).toBeLessThan(tol().forward / 10);
      expect(got.leakyMin).toBeLessThan(0);
      expect(got.rank3Shape).toEqual([4, 6, 3]);
      expect(got.rank3Error).toBeLessThan(tol().forward / 10);
    }, timeout);
  });

  describe('gradients', () => {
    it(`of im2colConv2d match tf.conv2d's on ${n.gradConv2d} cases, dilation and stride+dilation included`, async () => {
      const got = await call('gradConv2d', {seed: 4242, count: n.gradConv2d, ...sizes});
      expect(got.checks.length).toBe(2 * n.gradConv2d);
      const worst = expectChecks(got.checks, tol().gradient);
      console.log(`${target.name}, conv2d gradients: worst relative error ${worst.toExponential(2)} ` +
                  `(${got.dilated} dilated, ${got.stridedDilated} also strided, ${got.nchw} NCHW)`);
      // 10, 3 and 10 in 80 cases (as many per case on smaller sweeps).
      expect(got.dilated).toBeGreaterThan(n.gradConv2d / 8);
      expect(got.stridedDilated).toBeGreaterThan(n.gradConv2d * 3 / 80);
      expect(got.nchw).toBeGreaterThan(n.gradConv2d / 8);
      expect(got.calls[`Col2im/${target.backend}`]).toBeGreaterThan(0);
      expect(got.calls[`Im2colConv2D/${target.backend}`]).toBeGreaterThan(0);
    }, timeout);

    it(`of im2colConv2d match central differences (${n.gradNumerical} cases)`, async () => {
      const checks = await call('gradConv2dNumerical', {seed: 77, count: n.gradNumerical});
      expect(checks.length).toBe(2 * n.gradNumerical);
      expectChecks(checks, NUMERICAL_TOLERANCE);
    }, timeout);

    it(`in bands of rows and groups of images under small budgets match tf.conv2d's (${n.gradTiled} cases)`, async () => {
      const got = await call('gradTiled', {seed: 9090, count: n.gradTiled, ...sizes,
                                           minBudgetPositions: n.gradTiledMinPositions});
      const worst = expectChecks(got.checks, tol().gradient);
      for (const {peak, budget} of got.peaks) expect(peak).toBeLessThanOrEqual(budget);
      expect(got.peaks.length).toBe(got.bands + got.imageGroups);
      console.log(`${target.name}, tiled conv2d gradients: ${got.bands} in bands of rows, ` +
                  `${got.imageGroups} in image groups, worst relative error ${worst.toExponential(2)}`);
      // 15 and 3 in 60 cases (as many per case on smaller sweeps).
      expect(got.bands).toBeGreaterThan(n.gradTiled / 4);
      expect(got.imageGroups).toBeGreaterThan(n.gradTiled / 20);
    }, timeout);

    it('tiled, leave only the gradients behind and make no patch matrix over the budget', async () => {
      const got = await call('gradTiledMemory');
      expect(got.added).toBe(2);
      expect(got.leakedBytes).toBe(0);
      expect(got.peak).toBeGreaterThan(0);
      expect(got.peak).toBeLessThanOrEqual(got.budget);
    }, timeout);

    it(`of im2colConv1d match tf.conv2d's (NWC/NCW, causal, dilation; ${n.gradConv1d} cases)`, async () => {
      const checks = await call('gradConv1d', {seed: 1001, count: n.gradConv1d, ...sizes});
      expect(checks.length).toBe(2 * n.gradConv1d);
      expectChecks(checks, tol().gradient);
    }, timeout);

    it(`of im2col (col2im) match the one-hot-filter convolution's, and col2im is im2col's adjoint (${n.col2im} cases)`, async () => {
      const got = await call('col2im', {seed: 9, count: n.col2im, ...sizes});
      expect(got.checks.length).toBeGreaterThan(n.col2im / 2);
      expectChecks(got.checks, tol().gradient);
      for (const {lhs, rhs} of got.adjoint) expect(Math.abs(lhs - rhs)).toBeLessThan(1e-3 * Math.max(1, Math.abs(lhs)));
    }, timeout);

    it('col2im differentiates to im2col (second-order gradient through im2col)', async () => {
      expectChecks([await call('col2imSecondOrder')], tol().gradient);
    }, timeout);

    it(`of fusedIm2colConv2d match tf ops' for every activation, bias and PReLU weights (${n.gradFused} cases)`, async () => {
      const got = await call('gradFused', {seed: 555, count: n.gradFused, ...sizes});
      expect(got.forward.length).toBe(n.gradFused);
      expectChecks(got.forward, tol().forward);
      expect(got.checks.length).toBeGreaterThanOrEqual(3 * n.gradFused);
      expectChecks(got.checks, tol().gradient);
      expect(got.calls[`FusedIm2colConv2D/${target.backend}`]).toBeGreaterThan(0);
    }, timeout);

    it('of fusedIm2colConv2d match central differences through bias and activation', async () => {
      const checks = await call('gradFusedNumerical');
      expect(checks.length).toBe(3);
      expectChecks(checks, NUMERICAL_TOLERANCE);
    }, timeout);

    it('reference: a zero-expanded filter is tf.conv2d with dilation where tfjs has it', async () => {
      expectChecks([await call('expandedFilterReference')], tol().forward / 10);
    }, timeout);
  });

  describe('the convolution family', () => {
    const family = target.family;
    const seeds: Record<string, number> = {grouped: 11, depthwise: 22, fusedDepthwise: 33,
                                           transpose: 44, conv3d: 55};
    for (const op of family.ops) {
      it(`${op}: agrees with tfjs's ops on ${family.parity} random cases`, async () => {
        const results: FamilyResult[] = [];
        for (let from = 0; from < family.parity; from += runner.parityBatch) {
          const to = Math.min(family.parity, from + runner.parityBatch);
          results.push(...await call('familyParity', {op, seed: seeds[op], from, to,
                                                      referenceBackend: target.referenceBackend}));
        }
        expect(results.length).toBe(family.parity);
        let worst = 0;
        for (const r of results) {
          expect({case: r.label, shape: r.shape}).toEqual({case: r.label, shape: r.expectedShape});
          expect({case: r.label, leakedTensors: r.leakedTensors, leakedBytes: r.leakedBytes})
              .toEqual({case: r.label, leakedTensors: 0, leakedBytes: 0});
          if (!(r.error <= tol().forward)) {
            throw new Error(`case ${r.index}: relative error ${r.error} for ${r.label}`);
          }
          worst = Math.max(worst, r.error);
        }
        const cases = results.map(r => JSON.parse(r.label));
        const count = (f: (c: any) => boolean) => cases.filter(f).length; // eslint-disable-line @typescript-eslint/no-explicit-any
        const coverage = {
          channelsFirst: count(c => c.dataFormat.startsWith('NC')),
          strideAndDilation: count(c => Math.max(...c.strides) > 1 && Math.max(...c.dilations) > 1),
          batchOver1: count(c => c.xShape[0] > 1),
          multiplierOrGroupsOver1: count(c => c.op === 'conv3d' || c.groups > 1 ||
                                                c.filterShape[3] > 1),
        };
        console.log(`${target.name}, ${op}: ${family.parity} cases, worst relative error ` +
                    `${worst.toExponential(2)}, coverage ${JSON.stringify(coverage)}`);
        // Small sweeps (software WebGL) cannot promise every kind; the larger ones must have each.
        if (family.parity >= 30) {
          for (const value of Object.values(coverage)) expect(value).toBeGreaterThan(family.parity / 40);
        }
      }, timeout);

      it(`${op}: agrees in tiles under a small IM2COL_WORKSPACE_BYTES (${family.tiled} cases)`, async () => {
        // A budget of a few patch rows: every case runs in many tiles (a single row may
        // exceed it on the cpu, where one output position is the smallest tile; webgl's
        // smallest chunk is a 2x2 block, and it refuses a budget below that).
        const workspaceBytes = family.tiledBytes;
        const results = await call('familyParity', {op, seed: seeds[op] + 2, from: 0,
                                                    to: family.tiled, workspaceBytes,
                                                    referenceBackend: target.referenceBackend});
        expect(results.length).toBe(family.tiled);
        for (const r of results) {
          expect({case: r.label, shape: r.shape}).toEqual({case: r.label, shape: r.expectedShape});
          if (!(r.error <= tol().forward)) {
            throw new Error(`case ${r.index}: relative error ${r.error} for ${r.label}`);
          }
        }
        // Most cases' patch rows fit the budget a few at a time: their tiles stay within it.
        const within = results.filter(r => r.peakWorkspaceBytes <= workspaceBytes).length;
        expect(within).toBeGreaterThan(family.tiled / 2);
      }, timeout);

      it(`${op}: gradients match tfjs's gradients of tfjs's ops (${family.gradients} cases)`, async () => {
        const results = await call('familyGradients', {op, seed: seeds[op] + 1, from: 0,
                                                       to: family.gradients,
                                                       referenceBackend: target.referenceBackend});
        // All but, on webgl, the empty outputs (see familyGradients).
        expect(results.length).toBeGreaterThanOrEqual(target.backend === 'webgl' ?
            family.gradients / 2 : family.gradients);
        for (const r of results) {
          expect({case: r.label, leakedTensors: r.leakedTensors})
              .toEqual({case: r.label, leakedTensors: 0});
          if (!(r.dxError <= tol().gradient && r.dFilterError <= tol().gradient)) {
            throw new Error(`case ${r.index}: relative errors dx ${r.dxError}, dFilter ` +
                            `${r.dFilterError} for ${r.label}`);
          }
        }
      }, timeout);
    }

    it(`useIm2col's stand-ins (${family.standIns.join(', ')}) give tfjs's own results`, async () => {
      const results = await call('familyStandIns', {kernels: family.standIns,
                                                    referenceBackend: target.referenceBackend});
      expect(results.length).toBe(9);
      for (const r of results) {
        if (!(r.error <= tol().forward)) throw new Error(`${r.op}: relative error ${r.error}`);
      }
      const ran = new Set(results.flatMap(r => r.ranOn));
      const expected = family.standIns.filter(k => k !== 'Conv2D' && k !== 'FusedConv2D')
          .map(k => `${k}/${target.backend}`);
      expect([...ran].filter(k => expected.includes(k)).sort()).toEqual(expected.sort());
    }, timeout);

    if (family.filterGradients > 0) {
      it(`the filter-gradient kernels (2D stand-ins, 3D) agree with tfjs's kernels ` +
         `(${family.filterGradients} cases)`, async () => {
        const results = await call('familyFilterGradients', {
          seed: 4242, cases: family.filterGradients, tiledBytes: family.tiledBytes,
          referenceBackend: target.referenceBackend});
        expect(results.length).toBe(family.filterGradients);
        let worst = 0;
        for (const r of results) {
          if (!(r.error <= tol().gradient) || r.leakedTensors !== 0 ||
              !r.ranOn.includes(`${r.kernel}/${target.backend}`)) {
            throw new Error(`${r.kernel} ${r.label}: relative error ${r.error}, leaked ` +
                            `${r.leakedTensors} tensors, ran ${r.ranOn}`);
          }
          worst = Math.max(worst, r.error);
        }
        // The sweep reaches NCHW and dilated depthwise cases.
        expect(results.some(r => r.label.includes('"dataFormat":"NCHW"'))).toBe(true);
        expect(results.some(r => r.label.includes('"dilations":2'))).toBe(true);
        expect(results.some(r => r.label.includes('"dataFormat":"NCDHW"'))).toBe(true);
        console.log(`${target.name}, filter gradients: ${results.length} cases, worst relative ` +
                    `error ${worst.toExponential(2)}`);
      }, timeout);
    }
  });
}

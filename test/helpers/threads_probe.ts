/**
 * The page side of test/browser/threads_browser.test.ts, bundled into the page: convolutions
 * large enough for the CPU kernels' worker threads (above the threaded threshold), this
 * package's op (or tfjs's op under useIm2col()) against tfjs's own cpu kernel, and what each
 * call did to kernelStats().threadedProducts. Seeded values; tfjs's results are computed
 * once per page and kept.
 */
import type * as tfType from '@tensorflow/tfjs-core';
import type * as libType from '../../src';

type Tf = typeof tfType;
type Lib = typeof libType;
type Tensor = tfType.Tensor;

interface ThreadCase {
  name: string;
  /** This package's op, or tfjs's op with the switch on: one tensor or several (gradients). */
  ours: () => Tensor | Tensor[];
  /** tfjs's own cpu kernels. */
  reference: () => Tensor | Tensor[];
}

export interface CaseResult {
  name: string;
  /** max |ours - tfjs| / max |tfjs|, over each output and call (the largest). */
  relError: number;
  /** Growth of kernelStats().threadedProducts over the calls. */
  threadedProducts: number;
  calls: number;
}

function values(n: number, seed: number): Float32Array {
  return Float32Array.from({length: n}, (_, i) => Math.sin(i * 0.37 + seed));
}

let cases: ThreadCase[] | undefined;
const references = new Map<string, Float32Array[]>();

/** The cases; the names given to `runCases` pick some. */
function threadCases(tf: Tf, lib: Lib): ThreadCase[] {
  if (cases !== undefined) return cases;
  const t4 = (shape: [number, number, number, number], seed: number) =>
      tf.tensor4d(values(shape.reduce((a, b) => a * b), seed), shape);
  const x = t4([1, 56, 56, 64], 1);
  const xNchw = t4([1, 64, 56, 56], 2);
  const filter = t4([3, 3, 64, 64], 3);
  const wide = t4([3, 3, 64, 128], 4);
  const x1 = tf.tensor3d(values(2 * 1024 * 64, 5), [2, 1024, 64]);
  const filter1 = tf.tensor3d(values(5 * 64 * 64, 6), [5, 64, 64]);
  const dy = t4([1, 28, 28, 64], 7);
  const filterT = t4([3, 3, 32, 64], 8);
  const xSmall = t4([1, 28, 28, 64], 9);
  /** tfjs's op, with the switch on around it. */
  const switched = <T>(fn: () => T) => () => {
    const restore = lib.useIm2col();
    try {
      return fn();
    } finally {
      restore();
    }
  };
  const transpose = () => tf.conv2dTranspose(dy, filterT, [1, 56, 56, 32], 2, 'same');
  const grads = () => tf.grads((a: Tensor, b: Tensor) =>
      tf.conv2d(a as tfType.Tensor4D, b as tfType.Tensor4D, 1, 'same'))([xSmall, filter], dy);
  cases = [
    {name: 'conv2d NHWC', ours: () => lib.im2colConv2d(x, filter, 1, 'same'),
     reference: () => tf.conv2d(x, filter, 1, 'same')},
    {name: 'conv2d NCHW', ours: () => lib.im2colConv2d(xNchw, filter, 1, 'same', 'NCHW'),
     reference: () => tf.conv2d(xNchw, filter, 1, 'same', 'NCHW')},
    {name: 'conv1d', ours: () => lib.im2colConv1d(x1, filter1, 1, 'same'),
     reference: () => tf.conv1d(x1, filter1, 1, 'same')},
    {name: 'strided', ours: () => lib.im2colConv2d(x, wide, 2, 'same'),
     reference: () => tf.conv2d(x, wide, 2, 'same')},
    {name: 'dilated', ours: () => lib.im2colConv2d(x, filter, 1, 'same', 'NHWC', 2),
     reference: () => tf.conv2d(x, filter, 1, 'same', 'NHWC', 2)},
    {name: 'conv2dTranspose (useIm2col)', ours: switched(transpose), reference: transpose},
    {name: 'conv2d gradients (useIm2col)', ours: switched(grads), reference: grads},
  ];
  return cases;
}

function read(out: Tensor | Tensor[]): Float32Array[] {
  const outs = Array.isArray(out) ? out : [out];
  const data = outs.map(t => t.dataSync() as Float32Array);
  outs.forEach(t => t.dispose());
  return data;
}

function relError(actual: Float32Array[], expected: Float32Array[]): number {
  let worst = actual.length === expected.length ? 0 : Infinity;
  expected.forEach((want, j) => {
    const got = actual[j];
    if (got === undefined || got.length !== want.length) {
      worst = Infinity;
      return;
    }
    let scale = 0, error = 0;
    for (let i = 0; i < want.length; i++) {
      scale = Math.max(scale, Math.abs(want[i]));
      const e = Math.abs(got[i] - want[i]);
      error = Number.isNaN(e) ? Infinity : Math.max(error, e);
    }
    worst = Math.max(worst, error / scale);
  });
  return worst;
}

/**
 * Runs the named cases (all by default) on the cpu backend as it is set: each once, or with
 * `untilThreaded` until a call ran on more than one thread, at most that many calls (a worker
 * that the OS has not scheduled in time leaves a short job to the caller alone: correct, not
 * threaded). The results cover every call.
 */
export function runCases(tf: Tf, lib: Lib, names?: string[], untilThreaded = 1): CaseResult[] {
  const chosen = threadCases(tf, lib).filter(c => names === undefined || names.includes(c.name));
  return chosen.map(c => {
    let expected = references.get(c.name);
    if (expected === undefined) references.set(c.name, expected = read(c.reference()));
    const result = {name: c.name, relError: 0, threadedProducts: 0, calls: 0};
    do {
      const before = lib.kernelStats().threadedProducts;
      const error = relError(read(c.ours()), expected);
      result.relError = Number.isNaN(error) ? Infinity : Math.max(result.relError, error);
      result.threadedProducts += lib.kernelStats().threadedProducts - before;
      result.calls++;
    } while (result.threadedProducts === 0 && result.calls < untilThreaded);
    return result;
  });
}

/** The names of every case. */
export function caseNames(tf: Tf, lib: Lib): string[] {
  return threadCases(tf, lib).map(c => c.name);
}

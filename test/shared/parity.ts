/**
 * Parity body: im2colConv2d / im2colConv1d on the current backend against tf.conv2d over a
 * seeded random sweep (the reference is described in test/helpers/conv_cases.ts). Every case
 * is compared with tf.conv2d on cpu, every `ownReferenceEvery`-th also with tf.conv2d on the
 * current backend; the op's second run must leave tensors (and GPU bytes) as it found them.
 */
import {Conv1dCase, Conv2dCase, randomConv1dCase, randomConv2dCase, referenceConv1d, referenceConv2d, relativeError} from '../helpers/conv_cases';
import {Random} from '../helpers/random';
import {label, Lib, memory, onBackend, Tensor, Tf} from './types';

/** How a case is fed: rank 3 (2 for conv1d) without the batch, or as another op's output. */
export interface Variant {
  rank3: boolean;
  packedInput: boolean;
}
export type ParityCase = (Conv2dCase | Conv1dCase) & Variant;

export interface ParityArg {
  kind: 'conv2d' | 'conv1d';
  seed: number;
  /** Runs cases [from, to) of the seeded sequence (the page runs it in batches). */
  from: number;
  to: number;
  ownReferenceEvery: number;
  /** The own backend's tf.conv2d is tfjs's wasm one (see Target.ownReferenceIsTfjsWasm):
   *  NCHW conv2d cases go through it with x transposed to NHWC and the result back; cases
   *  with a dimRoundingMode, or 'same' with a stride over 1, are checked against cpu only. */
  ownReferenceIsTfjsWasm?: boolean;
}

/** Whether case `index` is also checked against tf.conv2d on the current backend. */
export function ownReferenceRuns(arg: Omit<ParityArg, 'kind' | 'seed' | 'from' | 'to'>, index: number,
                                 c: object): boolean {
  if (index % arg.ownReferenceEvery !== 0) return false;
  if (!arg.ownReferenceIsTfjsWasm || !('strides' in c)) return true;
  const conv2d = c as Conv2dCase;
  return conv2d.dimRoundingMode == null && !(conv2d.pad === 'same' && Math.max(...conv2d.strides) > 1);
}

/** The case with x (and an explicit pad) in NHWC; the result is then NHWC too. */
function asNhwc(c: Conv2dCase): Conv2dCase {
  const [b, ch, h, w] = c.xShape;
  const x = new Array<number>(c.x.length);
  for (let n = 0; n < b; n++) {
    for (let k = 0; k < ch; k++) {
      for (let i = 0; i < h * w; i++) x[(n * h * w + i) * ch + k] = c.x[(n * ch + k) * h * w + i];
    }
  }
  // Explicit pads are listed in the data format's dimension order.
  const pad = Array.isArray(c.pad) ? [c.pad[0], c.pad[2], c.pad[3], c.pad[1]] as typeof c.pad : c.pad;
  return {...c, x, xShape: [b, h, w, ch], pad, dataFormat: 'NHWC'};
}

export interface ParityResult {
  index: number;
  /** The case without its values (JSON of the case, variant included). */
  label: string;
  shape: number[];
  expectedShape: number[];
  cpuError: number;
  /** Against tf.conv2d on the current backend; null where not run. */
  ownError: number | null;
  leakedTensors: number;
  leakedBytes: number;
}

/** The seeded sequence: the same cases on every backend (cases [0, n) for any count n). */
export function parityCases(kind: ParityArg['kind'], seed: number, count: number): ParityCase[] {
  const rng = new Random(seed);
  // A second stream for packedInput keeps the first one's cases what they were before it.
  const packed = new Random(seed + 1);
  return Array.from({length: count}, () => {
    const c = kind === 'conv2d' ? randomConv2dCase(rng) : randomConv1dCase(rng);
    const rank3 = c.xShape[0] === 1 && rng.next() < 0.5;
    return {...c, rank3, packedInput: packed.next() < 0.5};
  });
}

export function parity(tf: Tf, lib: Lib, arg: ParityArg): ParityResult[] {
  const backend = tf.getBackend();
  const cases = parityCases(arg.kind, arg.seed, arg.to);
  const results: ParityResult[] = [];
  for (let index = arg.from; index < arg.to; index++) {
    const c = cases[index];
    const reference = (on: string) => onBackend(tf, on, () => {
      const viaNhwc = on !== 'cpu' && arg.ownReferenceIsTfjsWasm && c.kind === 'conv2d' &&
          c.dataFormat === 'NCHW';
      const ref = c.kind === 'conv1d' ? referenceConv1d(tf, c) : !viaNhwc ? referenceConv2d(tf, c) :
          tf.tidy(() => tf.transpose(referenceConv2d(tf, asNhwc(c)), [0, 3, 1, 2]));
      const values = ref.dataSync();
      const shape = ref.shape;
      ref.dispose();
      return {values, shape};
    });
    const onCpu = reference('cpu');
    const own = backend !== 'cpu' && ownReferenceRuns(arg, index, c) ? reference(backend) : null;
    const x0 = tf.tensor(c.x, c.xShape);
    // As the output of a previous op (on webgl: a packed texture).
    const x1 = c.packedInput ? tf.add(x0, tf.scalar(0)) : x0;
    const x = c.rank3 ? tf.squeeze(x1, [0]) : x1;
    const filter = tf.tensor(c.filter, c.filterShape);
    const run = (): Tensor => c.kind === 'conv2d' ?
        lib.im2colConv2d(x as never, filter as never, c.strides, c.pad, c.dataFormat, c.dilations,
                         c.dimRoundingMode) :
        lib.im2colConv1d(x as never, filter as never, c.stride, c.pad, c.dataFormat, c.dilation);
    // The first run uploads x and filter; the second must leave memory as it found it.
    run().dispose();
    const start = memory(tf);
    const out = run();
    const values = out.dataSync();
    const shape = c.rank3 ? [1, ...out.shape] : out.shape;
    out.dispose();
    const end = memory(tf);
    tf.dispose([x0, x1, x, filter]);
    results.push({
      index, label: label(c), shape, expectedShape: onCpu.shape,
      cpuError: relativeError(values, onCpu.values),
      ownError: own == null ? null : relativeError(values, own.values),
      leakedTensors: end.numTensors - start.numTensors,
      leakedBytes: end.gpuBytes - start.gpuBytes,
    });
  }
  return results;
}

/**
 * What a shared body receives: tfjs-core and this package's public API (src/index.ts), the
 * same modules in Node and in the page. Types only, so the bodies bundle for the page.
 */
import type * as tfType from '@tensorflow/tfjs-core';

export type Tf = typeof tfType;
export type Lib = typeof import('../../src');
export type Tensor = tfType.Tensor;

/** tf.memory() with the GPU bytes webgl reports (0 elsewhere). */
export function memory(tf: Tf): {numTensors: number, gpuBytes: number} {
  const m = tf.memory() as unknown as {numTensors: number, numBytesInGPU?: number};
  return {numTensors: m.numTensors, gpuBytes: m.numBytesInGPU ?? 0};
}

/** Runs `fn` with `backend` set (already initialised), then sets the previous one back. */
export function onBackend<T>(tf: Tf, backend: string, fn: () => T): T {
  const previous = tf.getBackend();
  if (previous === backend) return fn();
  // Synchronous for a backend that is already initialised (the runners initialise them).
  void tf.setBackend(backend);
  try {
    return fn();
  } finally {
    void tf.setBackend(previous);
  }
}

/** A case without its values, for messages. */
export function label(c: object): string {
  return JSON.stringify(c, (key, value) => key === 'x' || key === 'filter' ? undefined : value);
}

/** Elements that differ: non-finite ones must be identical, finite ones within `tolerance`
 *  relative (to at least 1). */
export function mismatches(actual: ArrayLike<number>, expected: ArrayLike<number>,
                           tolerance: number): number {
  let count = 0;
  for (let i = 0; i < expected.length; i++) {
    const e = expected[i], a = actual[i];
    const same = Number.isFinite(e) && Number.isFinite(a) ?
        Math.abs(a - e) <= tolerance * Math.max(1, Math.abs(e)) : Object.is(a, e);
    count += +!same;
  }
  return count + Math.abs(actual.length - expected.length);
}

/** tf.tidy for a body's JSON result (tf.tidy's own types want a tensor container). */
export function tidy<T>(tf: Tf, fn: () => T): T {
  let result!: T;
  tf.tidy(() => {
    result = fn();
  });
  return result;
}

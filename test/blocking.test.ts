/**
 * The micro-kernels are generated from src/cpu/gemm/blocking.json by scripts/build_wasm.js:
 * run the generators on other blockings than the one in use (MR not dividing MC, NR not a
 * power of two, KC smaller than k) and check the code they give against a naive product.
 */
import * as esbuild from 'esbuild';
import * as path from 'path';
import {TYPESCRIPT_BLOCKING, WASM_BLOCKING} from '../src/cpu/gemm/blocking.generated';
import {randomValues} from './helpers/random';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const build = require(path.join(__dirname, '..', 'scripts', 'build_wasm.js')) as {
  assembleWasm(blocking: {MR: number, NR: number, KC: number}): Promise<{buffer: Uint8Array<ArrayBuffer>}>;
  typescriptMicroKernel(blocking: {MR: number, NR: number}): string;
};

function expectNearProduct(actual: (i: number, j: number) => number, a: (i: number, p: number) => number,
                           b: (p: number, j: number) => number, m: number, k: number, n: number,
                           where: string): void {
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let sum = 0, scale = 0;
      for (let p = 0; p < k; p++) {
        sum += a(i, p) * b(p, j);
        scale += Math.abs(a(i, p) * b(p, j));
      }
      if (!(Math.abs(actual(i, j) - sum) <= 1e-5 * (scale + 1e-30))) {
        throw new Error(`${where}: C[${i}][${j}] is ${actual(i, j)}, expected ${sum}`);
      }
    }
  }
}

describe('the wasm module generated for a blocking', () => {
  it.each([
    [WASM_BLOCKING.MR, WASM_BLOCKING.NR, WASM_BLOCKING.KC],
    [1, 4, 256], [6, 12, 100], [3, 16, 7], [8, 4, 33],
  ])('MR=%i NR=%i KC=%i: packB and gemm give A·B (offsets, leading dimensions)',
     async (MR, NR, KC) => {
    const {buffer} = await build.assembleWasm({MR, NR, KC});
    const exports = new WebAssembly.Instance(new WebAssembly.Module(buffer)).exports as any; // eslint-disable-line @typescript-eslint/no-explicit-any
    const memory = exports.memory as WebAssembly.Memory;
    for (const [m, k, n] of [[MR, 1, 1], [2 * MR, KC + 3, NR + 1], [3 * MR, 2 * KC + 1, 3 * NR - 2]]) {
      const width = Math.ceil(n / NR) * NR;
      const [lda, ldb, ldc] = [k + 2, n + 3, width + 4];
      // Layout in floats: [packed B][B][A][C].
      const packedAt = 0, bAt = k * width, aAt = bAt + k * ldb, cAt = aAt + m * lda;
      const floats = cAt + m * ldc;
      if (memory.buffer.byteLength < 4 * floats) {
        memory.grow(Math.ceil((4 * floats - memory.buffer.byteLength) / 65536));
      }
      const heap = new Float32Array(memory.buffer);
      heap.set(randomValues(k * ldb, k + n), bAt);
      heap.set(randomValues(m * lda, m + k), aAt);
      expect(exports.packB(4 * bAt, ldb, 4 * packedAt, k, n, width)).toBe(0);
      exports.gemm(4 * aAt, lda, 4 * packedAt, 4 * cAt, ldc, m, k, width);
      expectNearProduct((i, j) => heap[cAt + i * ldc + j], (i, p) => heap[aAt + i * lda + p],
                        (p, j) => heap[bAt + p * ldb + j], m, k, n, `MR=${MR} NR=${NR} ${m}x${k}x${n}`);
      // The padding columns of B's last panel are zeros, so C's are too.
      for (let i = 0; i < m; i++) {
        for (let j = n; j < width; j++) expect(heap[cAt + i * ldc + j]).toBe(0);
      }
    }
  });
});

describe('the TypeScript micro-kernel generated for a blocking', () => {
  type MicroKernel = (depth: number, a: Float32Array, aOff: number, b: Float32Array, bOff: number,
                      out: Float32Array, outOff: number, rs: number, cs: number, rows: number,
                      cols: number, accumulate: boolean) => void;

  function compile(MR: number, NR: number): MicroKernel {
    const {code} = esbuild.transformSync(build.typescriptMicroKernel({MR, NR}),
                                         {loader: 'ts', format: 'cjs'});
    const module = {exports: {} as {microKernel: MicroKernel}};
    new Function('module', 'exports', code)(module, module.exports);
    return module.exports.microKernel;
  }

  it.each([
    [TYPESCRIPT_BLOCKING.MR, TYPESCRIPT_BLOCKING.NR], [1, 1], [3, 5], [6, 2], [4, 12],
  ])('MR=%i NR=%i: full and edge blocks, strided output, accumulating', (MR, NR) => {
    const microKernel = compile(MR, NR);
    const depth = 9;
    // Panels as the GEMM packs them: A depth-major MR wide, B depth-major NR wide.
    const a = randomValues(3 + depth * MR, MR), b = randomValues(5 + depth * NR, NR);
    const A = (i: number, p: number) => a[3 + p * MR + i], B = (p: number, j: number) => b[5 + p * NR + j];
    for (const [rows, cols] of [[MR, NR], [Math.max(1, MR - 1), Math.max(1, NR - 1)]]) {
      const [rs, cs] = [1, rows + 2];  // column-major, as an NCHW output
      const out = new Float32Array(7 + NR * cs).fill(0.5);
      microKernel(depth, a, 3, b, 5, out, 7, rs, cs, rows, cols, false);
      expectNearProduct((i, j) => out[7 + i * rs + j * cs], A, B, rows, depth, cols,
                        `MR=${MR} NR=${NR} ${rows}x${cols}`);
      microKernel(depth, a, 3, b, 5, out, 7, rs, cs, rows, cols, true);
      expectNearProduct((i, j) => out[7 + i * rs + j * cs] / 2, A, B, rows, depth, cols,
                        `MR=${MR} NR=${NR} ${rows}x${cols}, accumulated`);
      expect(out[6]).toBe(0.5);
    }
  });
});

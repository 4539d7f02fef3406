/**
 * The WebAssembly SIMD GEMM (source: `wasm/gemm.wat`, assembled at build time and embedded
 * as bytes). One module instance serves every call; its memory holds, back to back, the
 * packed filter, the patch tile A (which im2col writes in place, so A is never copied) and
 * the product tile C, which is copied out into the output with the caller's strides.
 * Memory grows to the largest call so far and is reused, so small calls allocate nothing.
 */
import type {Gemm, GemmSession} from './gemm';
import {WASM_BASE64} from './wasm/gemm_wat.generated';

interface GemmExports {
  memory: WebAssembly.Memory;
  MR: WebAssembly.Global;
  NR: WebAssembly.Global;
  KC: WebAssembly.Global;
  gemm(a: number, b: number, c: number, m: number, k: number, n: number): void;
}

function decodeBase64(text: string): Uint8Array<ArrayBuffer> {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

let wasmBytes: Uint8Array<ArrayBuffer>|undefined;
let simdSupport: boolean|undefined;

/** Whether this engine has WebAssembly with SIMD (the module validates). */
export function wasmSimdSupported(): boolean {
  if (simdSupport === undefined) {
    try {
      wasmBytes = decodeBase64(WASM_BASE64);
      simdSupport = typeof WebAssembly === 'object' && WebAssembly.validate(wasmBytes);
    } catch {
      simdSupport = false;
    }
  }
  return simdSupport;
}

interface GemmInstance {
  exports: GemmExports;
  /** Micro-kernel rows and columns and the depth of a B block (the module's constants). */
  MR: number;
  NR: number;
  KC: number;
  /** A view of the whole memory, renewed when it grows (growing detaches the old one). */
  heap: Float32Array;
}

let instance: GemmInstance|undefined;

// The module is under 1 KB, well below the size browsers allow to compile synchronously on
// the main thread, so it is compiled on first use and kept.
function gemmInstance(): GemmInstance {
  if (instance === undefined) {
    if (!wasmSimdSupported()) {
      throw new Error('The wasm CPU GEMM needs WebAssembly SIMD, which this engine lacks.');
    }
    const module = new WebAssembly.Module(wasmBytes!);
    const exports = new WebAssembly.Instance(module).exports as unknown as GemmExports;
    instance = {
      exports,
      MR: exports.MR.value,
      NR: exports.NR.value,
      KC: exports.KC.value,
      heap: new Float32Array(exports.memory.buffer)
    };
  }
  return instance;
}

const roundUp = (value: number, multiple: number) => Math.ceil(value / multiple) * multiple;

function begin(filter: Float32Array, k: number, n: number, maxRows: number): GemmSession {
  const wasm = gemmInstance();
  const {MR, NR, KC, exports} = wasm;
  const width = roundUp(n, NR);
  const tileRows = roundUp(maxRows, MR);
  // Layout in floats: [packed B: k×width][A: tileRows×k][C: tileRows×width].
  const bAt = 0;
  const aAt = bAt + k * width;
  const cAt = aAt + tileRows * k;
  const length = cAt + tileRows * width;
  if (wasm.heap.length < length) {
    exports.memory.grow(Math.ceil((4 * length - exports.memory.buffer.byteLength) / 65536));
    wasm.heap = new Float32Array(exports.memory.buffer);
  }
  const {heap} = wasm;

  // B in KC-deep blocks; in each block, NR-wide panels of depth × NR floats, zero-padded.
  let dst = bAt;
  for (let k0 = 0; k0 < k; k0 += KC) {
    const depth = Math.min(KC, k - k0);
    for (let col0 = 0; col0 < width; col0 += NR) {
      const cols = Math.max(0, Math.min(NR, n - col0));
      for (let p = 0; p < depth; p++) {
        const src = (k0 + p) * n + col0;
        let j = 0;
        for (; j < cols; j++) heap[dst + j] = filter[src + j];
        for (; j < NR; j++) heap[dst + j] = 0;
        dst += NR;
      }
    }
  }
  return {
    a: heap.subarray(aAt, aAt + maxRows * k),
    multiply(m, out, outOffset, rs, cs) {
      exports.gemm(4 * aAt, 4 * bAt, 4 * cAt, roundUp(m, MR), k, width);
      if (cs === 1 && rs === n && width === n) {
        out.set(heap.subarray(cAt, cAt + m * n), outOffset);
      } else if (cs === 1) {
        for (let i = 0; i < m; i++) {
          const row = cAt + i * width, at = outOffset + i * rs;
          for (let j = 0; j < n; j++) out[at + j] = heap[row + j];
        }
      } else {
        for (let j = 0; j < n; j++) {
          const column = outOffset + j * cs;
          for (let i = 0; i < m; i++) out[column + i * rs] = heap[cAt + i * width + j];
        }
      }
    }
  };
}

export const wasmGemm: Gemm = {name: 'wasm', preferredTileRows: 256, begin};

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

let instance: GemmExports|undefined;

// The module is under 1 KB, well below the size browsers allow to compile synchronously on
// the main thread, so it is compiled on first use and kept.
function gemmExports(): GemmExports {
  if (instance === undefined) {
    if (!wasmSimdSupported()) {
      throw new Error('The wasm CPU GEMM needs WebAssembly SIMD, which this engine lacks.');
    }
    const module = new WebAssembly.Module(wasmBytes!);
    instance = new WebAssembly.Instance(module).exports as unknown as GemmExports;
  }
  return instance;
}

const roundUp = (value: number, multiple: number) => Math.ceil(value / multiple) * multiple;

function begin(filter: Float32Array, k: number, n: number, maxRows: number): GemmSession {
  const wasm = gemmExports();
  const MR: number = wasm.MR.value, NR: number = wasm.NR.value, KC: number = wasm.KC.value;
  const width = roundUp(n, NR);
  const tileRows = roundUp(maxRows, MR);
  // Layout in floats: [packed B: k×width][A: tileRows×k][C: tileRows×width].
  const bAt = 0;
  const aAt = bAt + k * width;
  const cAt = aAt + tileRows * k;
  const bytes = 4 * (cAt + tileRows * width);
  const {memory} = wasm;
  if (memory.buffer.byteLength < bytes) {
    memory.grow(Math.ceil((bytes - memory.buffer.byteLength) / 65536));
  }
  const heap = new Float32Array(memory.buffer);

  // B in KC-deep blocks; in each block, NR-wide panels of depth × NR floats, zero-padded.
  let dst = bAt;
  for (let k0 = 0; k0 < k; k0 += KC) {
    const depth = Math.min(KC, k - k0);
    for (let col0 = 0; col0 < width; col0 += NR) {
      const cols = Math.max(0, Math.min(NR, n - col0));
      for (let p = 0; p < depth; p++) {
        const src = (k0 + p) * n + col0;
        for (let j = 0; j < cols; j++) heap[dst + j] = filter[src + j];
        heap.fill(0, dst + cols, dst + NR);
        dst += NR;
      }
    }
  }
  const c = heap.subarray(cAt, cAt + tileRows * width);
  return {
    a: heap.subarray(aAt, aAt + maxRows * k),
    multiply(m, out, outOffset, rs, cs) {
      wasm.gemm(4 * aAt, 4 * bAt, 4 * cAt, roundUp(m, MR), k, width);
      if (cs === 1 && rs === n && width === n) {
        out.set(c.subarray(0, m * n), outOffset);
      } else if (cs === 1) {
        for (let i = 0; i < m; i++) {
          out.set(c.subarray(i * width, i * width + n), outOffset + i * rs);
        }
      } else {
        for (let j = 0; j < n; j++) {
          const column = outOffset + j * cs;
          for (let i = 0; i < m; i++) out[column + i * rs] = c[i * width + j];
        }
      }
    }
  };
}

export const wasmGemm: Gemm = {name: 'wasm', preferredTileRows: 256, begin};

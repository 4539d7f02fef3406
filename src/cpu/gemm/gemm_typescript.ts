/**
 * A BLIS-structured GEMM in plain TypeScript: B is packed once into KC-deep blocks of
 * NR-wide column panels, A is packed per (MC × KC) block into MR-tall row panels that stay
 * in cache, and a 4×4 register-blocked micro-kernel does the arithmetic on local
 * variables (V8 keeps them in registers). It is the fallback where WebAssembly SIMD is
 * missing.
 */
import {fillPatchRows} from '../patch_matrix';
import type {ConvInput, Gemm, GemmSession} from './gemm';

const MR = 4;
const NR = 4;
/** Depth of a packed block: an MR×KC panel of A plus a KC×NR panel of B fit in L1. */
const KC = 256;
/** Rows of A packed at once: MC×KC floats (128 KiB) stay in L2. */
const MC = 128;

interface PanelledFilter {
  readonly k: number;
  readonly n: number;
  /** For each KC block: for each NR-wide panel: for each depth: NR values (zero-padded). */
  readonly panels: Float32Array;
  readonly panelCount: number;
  /** Whether the filter holds an Inf or a NaN. */
  readonly hasNonFinite: boolean;
}

/** Floats of scratch kept between calls, as the wasm GEMM keeps its memory. */
const RETAINED_FLOATS = 16 * 2 ** 20;
let retained = new Float32Array(0);

/**
 * Scratch of at least `length` floats, valid until the next call: small calls reuse one
 * buffer (a fresh typed array costs about as much as a whole 4x4 convolution).
 */
function scratch(length: number): Float32Array {
  if (length > RETAINED_FLOATS) return new Float32Array(length);
  if (retained.length < length) retained = new Float32Array(Math.min(RETAINED_FLOATS, 2 * length));
  return retained;
}

function packFilter(filter: Float32Array, k: number, n: number, panels: Float32Array):
    PanelledFilter {
  const panelCount = Math.ceil(n / NR);
  let dst = 0, nonFiniteSum = 0;
  for (let k0 = 0; k0 < k; k0 += KC) {
    const depth = Math.min(KC, k - k0);
    for (let panel = 0; panel < panelCount; panel++) {
      const col0 = panel * NR;
      const cols = Math.min(NR, n - col0);
      for (let p = 0; p < depth; p++) {
        const src = (k0 + p) * n + col0;
        let j = 0;
        for (; j < cols; j++) {
          const value = filter[src + j];
          panels[dst + j] = value;
          nonFiniteSum += value - value;  // 0 for finite values, NaN otherwise
        }
        for (; j < NR; j++) panels[dst + j] = 0;
        dst += NR;
      }
    }
  }
  return {k, n, panels, panelCount, hasNonFinite: nonFiniteSum !== 0};
}

/** Copies rows [row0, row0+rows) × depth [k0, k0+depth) of A into MR-tall panels. */
function packRows(a: Float32Array, k: number, row0: number, rows: number, k0: number,
                  depth: number, packed: Float32Array): void {
  let dst = 0;
  for (let r = 0; r < rows; r += MR) {
    const height = Math.min(MR, rows - r);
    const src = (row0 + r) * k + k0;
    for (let p = 0; p < depth; p++) {
      for (let i = 0; i < height; i++) packed[dst + i] = a[src + i * k + p];
      for (let i = height; i < MR; i++) packed[dst + i] = 0;
      dst += MR;
    }
  }
}

const edge = new Float64Array(MR * NR);

/**
 * out[rows×cols] (+)= Apanel[MR×depth] · Bpanel[depth×NR], rows ≤ MR and cols ≤ NR.
 * Sixteen accumulators live in locals; the edge case goes through a small buffer.
 */
function microKernel(depth: number, a: Float32Array, aOff: number, b: Float32Array, bOff: number,
                     out: Float32Array, outOff: number, rs: number, cs: number,
                     rows: number, cols: number, accumulate: boolean): void {
  let c00 = 0, c01 = 0, c02 = 0, c03 = 0, c10 = 0, c11 = 0, c12 = 0, c13 = 0;
  let c20 = 0, c21 = 0, c22 = 0, c23 = 0, c30 = 0, c31 = 0, c32 = 0, c33 = 0;
  for (let p = 0; p < depth; p++) {
    const a0 = a[aOff], a1 = a[aOff + 1], a2 = a[aOff + 2], a3 = a[aOff + 3];
    const b0 = b[bOff], b1 = b[bOff + 1], b2 = b[bOff + 2], b3 = b[bOff + 3];
    c00 += a0 * b0; c01 += a0 * b1; c02 += a0 * b2; c03 += a0 * b3;
    c10 += a1 * b0; c11 += a1 * b1; c12 += a1 * b2; c13 += a1 * b3;
    c20 += a2 * b0; c21 += a2 * b1; c22 += a2 * b2; c23 += a2 * b3;
    c30 += a3 * b0; c31 += a3 * b1; c32 += a3 * b2; c33 += a3 * b3;
    aOff += MR;
    bOff += NR;
  }
  edge[0] = c00; edge[1] = c01; edge[2] = c02; edge[3] = c03;
  edge[4] = c10; edge[5] = c11; edge[6] = c12; edge[7] = c13;
  edge[8] = c20; edge[9] = c21; edge[10] = c22; edge[11] = c23;
  edge[12] = c30; edge[13] = c31; edge[14] = c32; edge[15] = c33;
  for (let i = 0; i < rows; i++) {
    const row = outOff + i * rs;
    for (let j = 0; j < cols; j++) {
      const o = row + j * cs;
      out[o] = accumulate ? out[o] + edge[i * NR + j] : edge[i * NR + j];
    }
  }
}

function multiply(a: Float32Array, m: number, packed: PanelledFilter, packedRows: Float32Array,
                  out: Float32Array, outOffset: number, rs: number, cs: number): void {
  const {k, n, panels, panelCount} = packed;
  for (let row0 = 0; row0 < m; row0 += MC) {
    const rows = Math.min(MC, m - row0);
    for (let k0 = 0; k0 < k; k0 += KC) {
      const depth = Math.min(KC, k - k0);
      packRows(a, k, row0, rows, k0, depth, packedRows);
      const block = k0 * panelCount * NR;
      for (let panel = 0; panel < panelCount; panel++) {
        const cols = Math.min(NR, n - panel * NR);
        const bOff = block + panel * depth * NR;
        for (let r = 0; r < rows; r += MR) {
          microKernel(depth, packedRows, r * depth, panels, bOff, out,
              outOffset + (row0 + r) * rs + panel * NR * cs, rs, cs,
              Math.min(MR, rows - r), cols, k0 > 0);
        }
      }
    }
  }
}

function begin(filter: Float32Array, k: number, n: number, maxRows: number,
               input?: ConvInput): GemmSession {
  // One scratch buffer: [packed filter | packed rows of A | A].
  const panelsLength = k * Math.ceil(n / NR) * NR;
  const packedRowsLength = MC * Math.min(KC, k);
  const buffer = scratch(panelsLength + packedRowsLength + maxRows * k);
  const packed = packFilter(filter, k, n, buffer.subarray(0, panelsLength));
  const packedRows = buffer.subarray(panelsLength, panelsLength + packedRowsLength);
  const a = buffer.subarray(panelsLength + packedRowsLength,
                            panelsLength + packedRowsLength + maxRows * k);
  return {
    a,
    filterHasNonFinite: packed.hasNonFinite,
    fillPatchRows: (flatRow0: number, rows: number) =>
        fillPatchRows(input!.x, input!.geometry, flatRow0, rows, a),
    multiply: (m, out, outOffset, rs, cs) =>
        multiply(a, m, packed, packedRows, out, outOffset, rs, cs)
  };
}

export const typescriptGemm: Gemm = {name: 'typescript', preferredTileRows: 512, begin};

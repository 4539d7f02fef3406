/**
 * A BLIS-structured GEMM in plain TypeScript: B is packed once per plan into KC-deep blocks
 * of NR-wide column panels, A is packed per (MC × KC) block into MR-tall row panels that
 * stay in cache, and an unrolled MR×NR micro-kernel (generated from blocking.json by
 * scripts/build_wasm.js) does the arithmetic on local variables (V8 keeps them in
 * registers). It is the fallback where the WebAssembly GEMM cannot run.
 */
import {TYPESCRIPT_BLOCKING} from './blocking.generated';
import type {Gemm, GemmEpilogue, GemmPlan} from './gemm';
import {microKernel} from './typescript_kernel.generated';

const {MR, NR, KC, MC} = TYPESCRIPT_BLOCKING;

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

function packFilter(filter: Float32Array, bOffset: number, ldb: number, k: number, n: number,
                    panels: Float32Array): PanelledFilter {
  const panelCount = Math.ceil(n / NR);
  let dst = 0, nonFiniteSum = 0;
  for (let k0 = 0; k0 < k; k0 += KC) {
    const depth = Math.min(KC, k - k0);
    for (let panel = 0; panel < panelCount; panel++) {
      const col0 = panel * NR;
      const cols = Math.min(NR, n - col0);
      for (let p = 0; p < depth; p++) {
        const src = bOffset + (k0 + p) * ldb + col0;
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
function packRows(a: Float32Array, aOffset: number, lda: number, row0: number, rows: number,
                  k0: number, depth: number, packed: Float32Array): void {
  let dst = 0;
  for (let r = 0; r < rows; r += MR) {
    const height = Math.min(MR, rows - r);
    const src = aOffset + (row0 + r) * lda + k0;
    for (let p = 0; p < depth; p++) {
      for (let i = 0; i < height; i++) packed[dst + i] = a[src + i * lda + p];
      for (let i = height; i < MR; i++) packed[dst + i] = 0;
      dst += MR;
    }
  }
}

function multiply(packed: PanelledFilter, packedRows: Float32Array, m: number, a: Float32Array,
                  aOffset: number, lda: number, out: Float32Array, outOffset: number, rs: number,
                  cs: number): void {
  const {k, n, panels, panelCount} = packed;
  for (let row0 = 0; row0 < m; row0 += MC) {
    const rows = Math.min(MC, m - row0);
    for (let k0 = 0; k0 < k; k0 += KC) {
      const depth = Math.min(KC, k - k0);
      packRows(a, aOffset, lda, row0, rows, k0, depth, packedRows);
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

/** One GEMM call: B packed, and the scratch for A's packed blocks, A and the patch source. */
class TypescriptGemmPlan implements GemmPlan {
  readonly filterHasNonFinite: boolean;
  readonly a: Float32Array;
  readonly aOffset: number;
  readonly lda: number;
  readonly scratch: Float32Array;
  readonly scratchOffset: number;
  private readonly packed: PanelledFilter;
  private readonly packedRows: Float32Array;

  constructor(b: Float32Array, bOffset: number, ldb: number, readonly k: number,
              readonly n: number, maxRows: number, extraFloats: number) {
    // One scratch buffer: [packed filter | packed rows of A | A | the patch source's scratch].
    const panelsLength = k * Math.ceil(n / NR) * NR;
    // Whole MR-tall panels: the last one of an MC block is zero-padded.
    const packedRowsLength = Math.ceil(MC / MR) * MR * Math.min(KC, k);
    this.aOffset = panelsLength + packedRowsLength;
    this.lda = k;
    this.scratchOffset = this.aOffset + maxRows * k;
    const buffer = this.a = this.scratch = scratch(this.scratchOffset + extraFloats);
    this.packed = packFilter(b, bOffset, ldb, k, n, buffer.subarray(0, panelsLength));
    this.packedRows = buffer.subarray(panelsLength, this.aOffset);
    this.filterHasNonFinite = this.packed.hasNonFinite;
  }

  multiply(m: number, a: Float32Array, aOffset: number, lda: number, c: Float32Array,
           cOffset: number, rs: number, cs: number, epilogue?: GemmEpilogue): void {
    multiply(this.packed, this.packedRows, m, a, aOffset, lda, c, cOffset, rs, cs);
    epilogue?.(c, cOffset, m);
  }
}

export const typescriptGemm: Gemm = {
  name: 'typescript',
  preferredTileRows: TYPESCRIPT_BLOCKING.tileRows,
  prepare: (b, bOffset, ldb, k, n, maxRows, extraFloats = 0) =>
      new TypescriptGemmPlan(b, bOffset, ldb, k, n, maxRows, extraFloats)
};

/**
 * The WebAssembly SIMD GEMM (source: the template `wasm/gemm.wat`, expanded with the blocking
 * of blocking.json and assembled at build time, embedded as bytes), and the module's
 * in-memory im2col as a patch source.
 *
 * A plan's memory holds, back to back, the packed filter, the patch source's scratch (for
 * the wasm im2col: a band of input rows, the rows one tile's patches read, copied in per
 * tile), the A tile and the C tile, which is copied out into the output with the caller's
 * strides. So the memory stays near the patch workspace in size, whatever the input's. One
 * instance serves every call up to RETAINED_BYTES and keeps its memory, so small calls
 * allocate nothing; a larger call gets an instance of its own.
 */
import type {ConvGeometry} from '../../geometry';
import type {PatchSource} from '../patch_source';
import {WASM_BLOCKING} from './blocking.generated';
import {Gemm, GemmEpilogue, GemmPlan, WasmMemoryError} from './gemm';
import {WASM_BASE64} from './wasm/gemm_wat.generated';

const {MR, NR} = WASM_BLOCKING;

interface GemmExports {
  memory: WebAssembly.Memory;
  gemm(a: number, lda: number, b: number, c: number, ldc: number, m: number, k: number,
       n: number): void;
  packB(src: number, ldb: number, dst: number, k: number, n: number, width: number): number;
  im2col(x: number, dst: number, rowGap: number, rows: number, image: number, outRow: number,
         outCol: number, imageStep: number, rowStep: number, colStep: number,
         channelStep: number, inHeight: number, inWidth: number, inChannels: number,
         outHeight: number, outWidth: number, filterHeight: number, filterWidth: number,
         strideHeight: number, strideWidth: number, dilationHeight: number,
         dilationWidth: number, padTop: number, padLeft: number): void;
}

/**
 * Memory the shared instance may keep between calls. Fresh memory per call costs more than
 * the call (page faults, and V8 collects garbage on large external allocations).
 */
const RETAINED_BYTES = 64 * 2 ** 20;
const PAGE_BYTES = 65536;

function decodeBase64(text: string): Uint8Array<ArrayBuffer> {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

function describeError(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

interface GemmInstance {
  exports: GemmExports;
  /** A view of the whole memory, renewed when it grows (growing detaches the old one). */
  heap: Float32Array;
}

let wasmModule: WebAssembly.Module|undefined;
let shared: GemmInstance|undefined;
/** Exports by memory buffer, so the wasm im2col finds the module that owns a plan's A. */
const exportsOfBuffer = new WeakMap<ArrayBufferLike, GemmExports>();
let lastView: Float32Array|undefined;
let lastExports: GemmExports|undefined;

function instantiate(): GemmInstance {
  const exports = new WebAssembly.Instance(wasmModule!).exports as unknown as GemmExports;
  const heap = new Float32Array(exports.memory.buffer);
  exportsOfBuffer.set(heap.buffer, exports);
  return {exports, heap};
}

/** Why the module cannot run here; undefined where it can. Not yet asked: null. */
let unavailable: string|undefined|null = null;

/**
 * Why the wasm GEMM cannot run in this engine (no WebAssembly or no SIMD; compiling refused,
 * as by a Content-Security-Policy without 'wasm-unsafe-eval'; or no memory for an instance,
 * as under a low address-space limit), or undefined where it runs: the module is compiled
 * and the shared instance made on the first question, and the answer kept.
 */
export function wasmUnavailableReason(): string|undefined {
  if (unavailable === null) {
    try {
      if (typeof WebAssembly !== 'object') throw new Error('this engine has no WebAssembly');
      const bytes = decodeBase64(WASM_BASE64);
      if (!WebAssembly.validate(bytes)) throw new Error('this engine lacks WebAssembly SIMD');
      // The module is a few KB, below the size browsers allow to compile synchronously on
      // the main thread.
      wasmModule = new WebAssembly.Module(bytes);
      shared = instantiate();
      unavailable = undefined;
    } catch (error) {
      unavailable = describeError(error);
    }
  }
  return unavailable;
}

/** An instance with memory for `length` floats; WasmMemoryError where none can be had. */
function gemmInstance(length: number): GemmInstance {
  try {
    const wasm = 4 * length <= RETAINED_BYTES ? shared! : instantiate();
    if (wasm.heap.length < length) {
      const {memory} = wasm.exports;
      memory.grow(Math.ceil((4 * length - memory.buffer.byteLength) / PAGE_BYTES));
      wasm.heap = new Float32Array(memory.buffer);
      exportsOfBuffer.set(wasm.heap.buffer, wasm.exports);
    }
    return wasm;
  } catch (error) {
    throw new WasmMemoryError(`the WebAssembly GEMM could not get ${4 * length} bytes of ` +
        `memory (${describeError(error)})`);
  }
}

const roundUp = (value: number, multiple: number) => Math.ceil(value / multiple) * multiple;

/** One GEMM call on one instance: offsets (in floats) of its regions in the memory. */
class WasmGemmPlan implements GemmPlan {
  private readonly exports: GemmExports;
  private readonly heap: Float32Array;
  private readonly width: number;
  private readonly cAt: number;
  readonly a: Float32Array;
  readonly aOffset: number;
  readonly lda: number;
  readonly scratch: Float32Array;
  readonly scratchOffset: number;
  readonly filterHasNonFinite: boolean;

  constructor(b: Float32Array, bOffset: number, ldb: number, readonly k: number,
              readonly n: number, maxRows: number, extraFloats: number) {
    const width = this.width = roundUp(n, NR);
    const tileRows = roundUp(maxRows, MR);
    // Layout: [packed B: k×width][scratch][A: tileRows×k][C: tileRows×width]; while B is
    // packed, B as given is staged after it, where the scratch and tiles go later.
    const bAt = k * width;
    const bLength = k === 0 ? 0 : (k - 1) * ldb + n;
    this.scratchOffset = bAt;
    this.aOffset = bAt + extraFloats;
    this.lda = k;
    this.cAt = this.aOffset + tileRows * k;
    const {exports, heap} = gemmInstance(Math.max(this.cAt + tileRows * width, bAt + bLength));
    this.exports = exports;
    this.heap = this.a = this.scratch = heap;
    // A whole B is copied as it is: a subarray costs a small call a noticeable share.
    heap.set(bOffset === 0 && bLength === b.length ? b : b.subarray(bOffset, bOffset + bLength),
             bAt);
    this.filterHasNonFinite = exports.packB(4 * bAt, ldb, 0, k, n, width) !== 0;
  }

  /**
   * A in this module's memory is read in place (rows up to m rounded up to MR must be
   * readable; their products are dropped); any other A is copied into the plan's A first.
   */
  multiply(m: number, a: Float32Array, aOffset: number, lda: number, c: Float32Array,
           cOffset: number, rs: number, cs: number, epilogue?: GemmEpilogue): void {
    const {heap, cAt, width, n, k} = this;
    let aAddress: number;
    if (a === heap) {
      // The plan's own A, a view of the whole memory: read in place, no accessor needed.
      aAddress = 4 * aOffset;
    } else if (a.buffer === heap.buffer) {
      aAddress = a.byteOffset + 4 * aOffset;
    } else {
      if (lda === k) {
        heap.set(a.subarray(aOffset, aOffset + m * k), this.aOffset);
      } else {
        for (let i = 0; i < m; i++) {
          heap.set(a.subarray(aOffset + i * lda, aOffset + i * lda + k), this.aOffset + i * k);
        }
      }
      aAddress = 4 * this.aOffset;
      lda = k;
    }
    this.exports.gemm(aAddress, lda, 0, 4 * cAt, width, roundUp(m, MR), k, width);
    if (cs === 1 && rs === n && width === n && m * n > 64) {
      c.set(heap.subarray(cAt, cAt + m * n), cOffset);
    } else if (cs === 1) {
      for (let i = 0; i < m; i++) {
        const row = cAt + i * width, at = cOffset + i * rs;
        for (let j = 0; j < n; j++) c[at + j] = heap[row + j];
      }
    } else {
      for (let j = 0; j < n; j++) {
        const column = cOffset + j * cs;
        for (let i = 0; i < m; i++) c[column + i * rs] = heap[cAt + i * width + j];
      }
    }
    epilogue?.(c, cOffset, m);
  }
}

export const wasmGemm: Gemm = {
  name: 'wasm',
  preferredTileRows: WASM_BLOCKING.tileRows,
  prepare: (b, bOffset, ldb, k, n, maxRows, extraFloats = 0) =>
      new WasmGemmPlan(b, bOffset, ldb, k, n, maxRows, extraFloats)
};

/** Floats of the largest input band a tile of `tileRows` patch rows reads. */
function bandLength(g: ConvGeometry, tileRows: number): number {
  const outRows = Math.min(g.outHeight, Math.ceil((tileRows - 1) / g.outWidth) + 1);
  const inRows = Math.min(g.inHeight,
      (outRows - 1) * g.strideHeight + (g.filterHeight - 1) * g.dilationHeight + 1);
  return inRows * g.inWidth * g.inChannels;
}

/**
 * The module's im2col: per tile, the input rows its patches read are copied into the
 * scratch (the band; kept while the next tile reads the same rows), and the module writes
 * the patch rows from there with block copies. It writes only into a wasm GEMM plan's
 * memory: use it with that GEMM, `dst` the plan's `a` and `scratch` the plan's scratch.
 */
export class WasmIm2colSource implements PatchSource {
  private heap: Float32Array|undefined;
  /** The input rows [bandFirst, bandEnd) of image bandImage are at bandAt in `heap`. */
  private bandAt = -1;
  private bandImage = -1;
  private bandFirst = 0;
  private bandEnd = 0;

  constructor(private readonly x: Float32Array, private readonly g: ConvGeometry) {}

  scratchFloats(maxRows: number): number {
    return bandLength(this.g, maxRows);
  }

  fill(flatRow0: number, rows: number, dst: Float32Array, dstOffset: number, lda: number,
       scratch: Float32Array, scratchOffset: number): void {
    // A plan's `a` and `scratch` are one view of its whole memory. The last such view is
    // remembered, so a small call pays no typed-array accessor per tile.
    if (dst !== lastView) {
      const buffer = dst.buffer;
      const exports = exportsOfBuffer.get(buffer);
      if (exports === undefined || dst.byteOffset !== 0 || 4 * dst.length !== buffer.byteLength) {
        throw new Error('The wasm im2col writes only into a wasm GEMM plan\'s memory.');
      }
      lastView = dst;
      lastExports = exports;
    }
    if (scratch !== dst) {
      throw new Error('The wasm im2col writes only into a wasm GEMM plan\'s memory.');
    }
    const exports = lastExports!;
    if (this.heap !== dst) {
      this.heap = dst;
      this.bandImage = -1;
    }
    const bandAt = scratchOffset;
    if (bandAt !== this.bandAt) {
      this.bandAt = bandAt;
      this.bandImage = -1;
    }
    const g = this.g;
    const {inHeight, inWidth, inChannels, outHeight, outWidth} = g;
    const k = g.filterHeight * g.filterWidth * inChannels;
    const rowsPerImage = outHeight * outWidth;
    const dstAt = 4 * dstOffset;
    // Tiles may span images: one im2col call per image's share of the tile.
    for (let done = 0; done < rows;) {
      const flatRow = flatRow0 + done;
      const image = Math.floor(flatRow / rowsPerImage);
      const position = flatRow - image * rowsPerImage;
      const count = Math.min(rows - done, rowsPerImage - position);
      const outRow = Math.floor(position / outWidth);
      const outCol = position - outRow * outWidth;
      const lastOutRow = Math.floor((position + count - 1) / outWidth);
      const first = Math.max(0, outRow * g.strideHeight - g.padInfo.top);
      const end = Math.min(inHeight, lastOutRow * g.strideHeight - g.padInfo.top +
          (g.filterHeight - 1) * g.dilationHeight + 1);
      this.loadBand(image, first, end);
      // Band layout: NHWC rows as they are; NCHW one block of rows per channel. The input
      // address the module computes for (row, column, channel) lands in the band when
      // its base is moved back by `first` rows (i32 arithmetic wraps, so it may go below 0).
      const channelsLast = g.dataFormat === 'channelsLast';
      const rowStep = channelsLast ? inWidth * inChannels : inWidth;
      // One channel in NCHW lies like NHWC: its columns are contiguous.
      const channelStep = channelsLast || inChannels === 1 ? 1 : Math.max(0, end - first) * inWidth;
      exports.im2col(4 * (bandAt - first * rowStep), dstAt + 4 * done * lda, 4 * (lda - k),
          count, 0, outRow, outCol, 0, rowStep, channelsLast ? inChannels : 1, channelStep,
          inHeight, inWidth, inChannels, outHeight, outWidth, g.filterHeight, g.filterWidth,
          g.strideHeight, g.strideWidth, g.dilationHeight, g.dilationWidth, g.padInfo.top,
          g.padInfo.left);
      done += count;
    }
  }

  /** Copies input rows [first, end) of `image` into the band, unless they are there. */
  private loadBand(image: number, first: number, end: number): void {
    if (end <= first ||
        (image === this.bandImage && first === this.bandFirst && end === this.bandEnd)) {
      return;
    }
    const {x, g} = this;
    const {inHeight, inWidth, inChannels} = g;
    const imageAt = image * inHeight * inWidth * inChannels;
    if (g.dataFormat === 'channelsLast') {
      const rowLength = inWidth * inChannels;
      this.copyIn(x, imageAt + first * rowLength, (end - first) * rowLength, this.bandAt);
    } else {
      const plane = inHeight * inWidth, block = (end - first) * inWidth;
      for (let c = 0; c < inChannels; c++) {
        this.copyIn(x, imageAt + c * plane + first * inWidth, block, this.bandAt + c * block);
      }
    }
    this.bandImage = image;
    this.bandFirst = first;
    this.bandEnd = end;
  }

  /** heap[to, to+length) = x[from, from+length); short runs skip making a subarray. */
  private copyIn(x: Float32Array, from: number, length: number, to: number): void {
    const heap = this.heap!;
    if (length > 256) {
      heap.set(x.subarray(from, from + length), to);
    } else {
      for (let i = 0; i < length; i++) heap[to + i] = x[from + i];
    }
  }
}

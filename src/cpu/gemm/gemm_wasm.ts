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
 * allocate nothing; a larger call gets an instance of its own. A depthwise convolution's
 * plan (WasmChannelwisePlan) lays out the same regions for the module's channelwise product.
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
  channelwise(a: number, lda: number, w: number, c: number, ldc: number, m: number, taps: number,
              channels: number): void;
  im2colChannelwise(x: number, a: number, rows: number, microRows: number, outRow: number,
                    outCol: number, rowStep: number, colStep: number, channelStep: number,
                    inHeight: number, inWidth: number, inChannels: number, outHeight: number,
                    outWidth: number, filterHeight: number, filterWidth: number,
                    strideHeight: number, strideWidth: number, dilationHeight: number,
                    dilationWidth: number, padTop: number, padLeft: number, w: number,
                    c: number, ldc: number, multiplier: number): void;
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

export function decodeBase64(text: string): Uint8Array<ArrayBuffer> {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

export function describeError(error: unknown): string {
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

/**
 * Tells the wasm im2col which module's exports serve a memory it did not make (the threaded
 * pool's shared memory), so it writes into a threaded GEMM plan's A too.
 */
export function registerWasmMemory(view: Float32Array, exports: object): void {
  exportsOfBuffer.set(view.buffer, exports as GemmExports);
}

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

/**
 * Copies a rows×cols tile at heap[at + i * ld + j] out to out[offset + i * rowStride + j *
 * colStride]: one block copy where both are contiguous alike.
 */
export function copyTileOut(heap: Float32Array, at: number, ld: number, rows: number, cols: number,
                     out: Float32Array, offset: number, rowStride: number, colStride: number):
    void {
  if (colStride === 1 && rowStride === cols && ld === cols && rows * cols > 64) {
    out.set(heap.subarray(at, at + rows * cols), offset);
  } else if (colStride === 1) {
    for (let i = 0; i < rows; i++) {
      const row = at + i * ld, to = offset + i * rowStride;
      for (let j = 0; j < cols; j++) out[to + j] = heap[row + j];
    }
  } else {
    for (let j = 0; j < cols; j++) {
      const column = offset + j * colStride;
      for (let i = 0; i < rows; i++) out[column + i * rowStride] = heap[at + i * ld + j];
    }
  }
}

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
    copyTileOut(heap, cAt, width, m, n, c, cOffset, rs, cs);
    epilogue?.(c, cOffset, m);
  }
}

export const wasmGemm: Gemm = {
  name: 'wasm',
  preferredTileRows: WASM_BLOCKING.tileRows,
  prepare: (b, bOffset, ldb, k, n, maxRows, extraFloats = 0) =>
      new WasmGemmPlan(b, bOffset, ldb, k, n, maxRows, extraFloats)
};

/** Where the module's channelwise product finds its operands, in floats of its memory. */
interface ChannelwiseProduct {
  wOffset: number;
  cOffset: number;
  ldc: number;
  multiplier: number;
  microRows: number;
}

/**
 * One depthwise convolution call on one instance, the channelwise counterpart of a GEMM plan:
 *   out[r, ch * multiplier + j] =
 *       sum over taps t of A[r, t * channels + ch] * W[t, ch * multiplier + j],
 * A the patch rows ((kh, kw, c) order) that the module's im2col writes from the input band,
 * micro-tile by micro-tile, each multiplied while it is in L1. Memory: [W: multiplier blocks
 * of taps×cPad][band][A: microRows×taps·channels][C: tileRows×multiplier·cPad], cPad the
 * channels rounded up to f32x4 lanes; W block j holds the filter's column j of every channel,
 * so the product runs on whole vectors of channels.
 */
export class WasmChannelwisePlan {
  private readonly heap: Float32Array;
  private readonly source: WasmIm2colSource;
  private readonly product: ChannelwiseProduct;
  private readonly scratchOffset: number;
  private readonly aOffset: number;
  private readonly channels: number;
  private readonly cPad: number;

  /**
   * Copies the filter ([taps, channels * multiplier], tfjs's depthwise layout) in and makes
   * room for tiles of up to `tileRows` output rows, `microRows` patch rows at a time;
   * WasmMemoryError where the memory cannot be had.
   */
  constructor(x: Float32Array, g: ConvGeometry, filter: Float32Array, tileRows: number,
              microRows: number) {
    const channels = this.channels = g.inChannels;
    const multiplier = g.outChannels / channels;
    const taps = g.filterHeight * g.filterWidth;
    const cPad = this.cPad = roundUp(channels, 4);
    // The band keeps a tile's worth of spare input rows, so most tiles copy only new rows.
    const source = this.source = new WasmIm2colSource(x, g, bandRows(g, tileRows));
    const wLength = multiplier * taps * cPad;
    this.scratchOffset = wLength;
    this.aOffset = roundUp(wLength + source.scratchFloats(tileRows), 4);
    // Rows go 4 at a time; the last vector of the last row reads up to 3 floats past it.
    const cOffset = roundUp(this.aOffset + roundUp(microRows, 4) * taps * channels + 4, 4);
    const ldc = multiplier * cPad;
    const {heap} = gemmInstance(cOffset + (tileRows + 3) * ldc);
    this.heap = heap;
    this.product = {wOffset: 0, cOffset, ldc, multiplier, microRows};
    const outChannels = channels * multiplier;
    for (let j = 0; j < multiplier; j++) {
      for (let t = 0; t < taps; t++) {
        const to = (j * taps + t) * cPad, from = t * outChannels + j;
        for (let ch = 0; ch < channels; ch++) heap[to + ch] = filter[from + ch * multiplier];
        heap.fill(0, to + channels, to + cPad);
      }
    }
  }

  /**
   * Output rows [row0, row0 + rows) (rows ≤ tileRows; channels-first, within one image),
   * output channel o of row i to out[offset + i * rowStride + o * colStride].
   */
  run(row0: number, rows: number, out: Float32Array, offset: number, rowStride: number,
      colStride: number): void {
    const {heap, product, channels, cPad} = this;
    const {multiplier, ldc, cOffset} = product;
    this.source.fillChannelwise(row0, rows, heap, this.aOffset, this.scratchOffset, product);
    if (multiplier === 1) {
      copyTileOut(heap, cOffset, ldc, rows, channels, out, offset, rowStride, colStride);
      return;
    }
    for (let i = 0; i < rows; i++) {
      const row = cOffset + i * ldc, at = offset + i * rowStride;
      for (let ch = 0, o = at; ch < channels; ch++) {
        for (let j = 0; j < multiplier; j++, o += colStride) out[o] = heap[row + j * cPad + ch];
      }
    }
  }
}

/** Input rows the patches of a tile of `tileRows` output positions read. */
function bandRows(g: ConvGeometry, tileRows: number): number {
  const outRows = Math.min(g.outHeight, Math.ceil((tileRows - 1) / g.outWidth) + 1);
  return Math.min(g.inHeight,
      (outRows - 1) * g.strideHeight + (g.filterHeight - 1) * g.dilationHeight + 1);
}

/**
 * The module's im2col: per tile, the input rows its patches read are copied into the
 * scratch (the band), and the module writes the patch rows from there with block copies.
 * Channels-last bands are kept across tiles: rows already in the band are not copied again,
 * only the new ones after them (with `spareRows` input rows of room beyond one tile's band,
 * the kept rows move to the front only when that room runs out). It writes only into a wasm
 * plan's memory: use it with that plan, `dst` the plan's `a` and `scratch` its scratch.
 */
export class WasmIm2colSource implements PatchSource {
  private heap: Float32Array|undefined;
  /** The input rows [bandFirst, bandEnd) of image bandImage are at bandAt in `heap`. */
  private bandAt = -1;
  private bandImage = -1;
  private bandFirst = 0;
  private bandEnd = 0;
  /** Input rows the band has room for (channels last). */
  private bandRows = 0;

  constructor(private readonly x: Float32Array, private readonly g: ConvGeometry,
              private readonly spareRows = 0) {}

  scratchFloats(maxRows: number): number {
    const g = this.g;
    // Channels-first bands are loaded whole per tile: no room to spare.
    const spare = g.dataFormat === 'channelsLast' ? this.spareRows : 0;
    this.bandRows = Math.min(g.inHeight, bandRows(g, maxRows) + spare);
    return this.bandRows * g.inWidth * g.inChannels;
  }

  fill(flatRow0: number, rows: number, dst: Float32Array, dstOffset: number, lda: number,
       scratch: Float32Array, scratchOffset: number): void {
    this.walk(flatRow0, rows, dst, dstOffset, lda, scratch, scratchOffset);
  }

  /**
   * Patch rows [flatRow0, flatRow0 + rows) (channels-first: within one image) through the
   * module's channelwise product, micro-tile by micro-tile in `a` (room for
   * `product.microRows` rows rounded up to 4, taps·channels floats apart, at aOffset);
   * output row r of the tile at C row r.
   */
  fillChannelwise(flatRow0: number, rows: number, heap: Float32Array, aOffset: number,
                  scratchOffset: number, product: ChannelwiseProduct): void {
    this.walk(flatRow0, rows, heap, aOffset, this.g.filterHeight * this.g.filterWidth *
              this.g.inChannels, heap, scratchOffset, product);
  }

  /** fill and fillChannelwise: per image's share of the tile, the band, then the module. */
  private walk(flatRow0: number, rows: number, dst: Float32Array, dstOffset: number,
               lda: number, scratch: Float32Array, scratchOffset: number,
               product?: ChannelwiseProduct): void {
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
    const channelsLast = g.dataFormat === 'channelsLast';
    const rowStep = channelsLast ? inWidth * inChannels : inWidth;
    // Tiles may span images: one module call per image's share of the tile.
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
      // its base is moved back by the band's first row (i32 arithmetic wraps, so it may go
      // below 0).
      const x = 4 * (bandAt - this.bandFirst * rowStep);
      const colStep = channelsLast ? inChannels : 1;
      // One channel in NCHW lies like NHWC: its columns are contiguous.
      const channelStep = channelsLast || inChannels === 1 ? 1 :
          Math.max(0, this.bandEnd - this.bandFirst) * inWidth;
      if (product === undefined) {
        exports.im2col(x, dstAt + 4 * done * lda, 4 * (lda - k), count, 0, outRow, outCol, 0,
            rowStep, colStep, channelStep, inHeight, inWidth, inChannels, outHeight,
            outWidth, g.filterHeight, g.filterWidth, g.strideHeight, g.strideWidth,
            g.dilationHeight, g.dilationWidth, g.padInfo.top, g.padInfo.left);
      } else {
        exports.im2colChannelwise(x, dstAt, count, product.microRows, outRow, outCol, rowStep,
            colStep, channelStep, inHeight, inWidth, inChannels, outHeight, outWidth,
            g.filterHeight, g.filterWidth, g.strideHeight, g.strideWidth, g.dilationHeight,
            g.dilationWidth, g.padInfo.top, g.padInfo.left, 4 * product.wOffset,
            4 * (product.cOffset + done * product.ldc), product.ldc, product.multiplier);
      }
      done += count;
    }
  }

  /** Makes input rows [first, end) of `image` readable in the band. */
  private loadBand(image: number, first: number, end: number): void {
    if (end <= first) return;
    const {x, g, bandAt} = this;
    const {inHeight, inWidth, inChannels} = g;
    const imageAt = image * inHeight * inWidth * inChannels;
    if (image === this.bandImage && first >= this.bandFirst && end <= this.bandEnd) return;
    if (g.dataFormat === 'channelsLast') {
      const rowLength = inWidth * inChannels;
      if (image === this.bandImage && first >= this.bandFirst && first <= this.bandEnd) {
        // The rows from bandEnd on follow the ones kept; when there is no room for them, the
        // kept rows from `first` on move to the front first.
        if (end - this.bandFirst > this.bandRows) {
          const kept = (first - this.bandFirst) * rowLength;
          this.heap!.copyWithin(bandAt, bandAt + kept,
                                bandAt + (this.bandEnd - this.bandFirst) * rowLength);
          this.bandFirst = first;
        }
        this.copyIn(x, imageAt + this.bandEnd * rowLength, (end - this.bandEnd) * rowLength,
                    bandAt + (this.bandEnd - this.bandFirst) * rowLength);
      } else {
        this.copyIn(x, imageAt + first * rowLength, (end - first) * rowLength, bandAt);
        this.bandFirst = first;
      }
    } else {
      const plane = inHeight * inWidth, block = (end - first) * inWidth;
      for (let c = 0; c < inChannels; c++) {
        this.copyIn(x, imageAt + c * plane + first * inWidth, block, bandAt + c * block);
      }
      this.bandFirst = first;
    }
    this.bandImage = image;
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

/**
 * The WebAssembly SIMD GEMM (source: `wasm/gemm.wat`, assembled at build time and embedded
 * as bytes). An instance's memory holds, back to back, the packed filter, a band of input
 * rows (the rows one tile's patches read, copied in per tile), the patch tile A (which the
 * module's im2col writes in place) and the product tile C, which is copied out into the
 * output with the caller's strides. So the memory stays near the patch workspace in size,
 * whatever the input's. One instance serves every call up to RETAINED_BYTES and keeps its
 * memory, so small calls allocate nothing; a larger call gets an instance of its own.
 */
import type {ConvGeometry} from '../../geometry';
import type {ConvInput, Gemm, GemmSession} from './gemm';
import {WASM_BASE64} from './wasm/gemm_wat.generated';

interface GemmExports {
  memory: WebAssembly.Memory;
  MR: WebAssembly.Global;
  NR: WebAssembly.Global;
  gemm(a: number, b: number, c: number, m: number, k: number, n: number): void;
  packB(src: number, dst: number, k: number, n: number, width: number): number;
  im2col(x: number, dst: number, rows: number, image: number, outRow: number, outCol: number,
         imageStep: number, rowStep: number, colStep: number, channelStep: number,
         inHeight: number, inWidth: number, inChannels: number, outHeight: number,
         outWidth: number, filterHeight: number, filterWidth: number, strideHeight: number,
         strideWidth: number, dilationHeight: number, dilationWidth: number, padTop: number,
         padLeft: number): void;
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
  /** Micro-kernel rows and columns (the module's constants). */
  MR: number;
  NR: number;
  /** A view of the whole memory, renewed when it grows (growing detaches the old one). */
  heap: Float32Array;
}

let wasmModule: WebAssembly.Module|undefined;
let shared: GemmInstance|undefined;

function instantiate(): GemmInstance {
  if (!wasmSimdSupported()) {
    throw new Error('The wasm CPU GEMM needs WebAssembly SIMD, which this engine lacks.');
  }
  // The module is about 1 KB, well below the size browsers allow to compile synchronously
  // on the main thread, so it is compiled on first use and kept.
  wasmModule ??= new WebAssembly.Module(wasmBytes!);
  const exports = new WebAssembly.Instance(wasmModule).exports as unknown as GemmExports;
  return {
    exports,
    MR: exports.MR.value,
    NR: exports.NR.value,
    heap: new Float32Array(exports.memory.buffer)
  };
}

/** An instance with memory for `length` floats. */
function gemmInstance(length: number): GemmInstance {
  const wasm = 4 * length <= RETAINED_BYTES ? (shared ??= instantiate()) : instantiate();
  if (wasm.heap.length < length) {
    const {memory} = wasm.exports;
    memory.grow(Math.ceil((4 * length - memory.buffer.byteLength) / PAGE_BYTES));
    wasm.heap = new Float32Array(memory.buffer);
  }
  return wasm;
}

const roundUp = (value: number, multiple: number) => Math.ceil(value / multiple) * multiple;

/** Floats of the largest input band a tile of `tileRows` patch rows reads. */
function bandLength(g: ConvGeometry, tileRows: number): number {
  const outRows = Math.min(g.outHeight, Math.ceil((tileRows - 1) / g.outWidth) + 1);
  const inRows = Math.min(g.inHeight,
      (outRows - 1) * g.strideHeight + (g.filterHeight - 1) * g.dilationHeight + 1);
  return inRows * g.inWidth * g.inChannels;
}

/** One convolution on one instance: offsets (in floats) of its regions in the memory. */
class WasmGemmSession implements GemmSession {
  private readonly exports: GemmExports;
  private readonly heap: Float32Array;
  private readonly MR: number;
  private readonly width: number;
  private readonly bandAt: number;
  private readonly aAt: number;
  private readonly cAt: number;
  readonly filterHasNonFinite: boolean;
  /** The input rows [bandFirst, bandEnd) of image bandImage are in the band. */
  private bandImage = -1;
  private bandFirst = 0;
  private bandEnd = 0;

  constructor(filter: Float32Array, private readonly k: number, private readonly n: number,
              private readonly maxRows: number, private readonly input?: ConvInput) {
    // Micro-kernel sizes are the module's constants; the shared instance has them at hand.
    const {MR, NR} = shared ?? (shared = instantiate());
    const width = this.width = roundUp(n, NR);
    const tileRows = roundUp(maxRows, MR);
    // Layout: [packed B: k×width][input band][A: tileRows×k][C: tileRows×width]; while B is
    // packed, the filter as given is staged after it, where the band and tiles go later.
    this.MR = MR;
    this.bandAt = k * width;
    this.aAt = this.bandAt + (input === undefined ? 0 : bandLength(input.geometry, maxRows));
    this.cAt = this.aAt + tileRows * k;
    const {exports, heap} = gemmInstance(Math.max(this.cAt + tileRows * width,
                                                  this.bandAt + k * n));
    this.exports = exports;
    this.heap = heap;
    heap.set(filter, this.bandAt);
    this.filterHasNonFinite = exports.packB(4 * this.bandAt, 0, k, n, width) !== 0;
  }

  get a(): Float32Array {
    return this.heap.subarray(this.aAt, this.aAt + this.maxRows * this.k);
  }

  fillPatchRows(flatRow0: number, rows: number): void {
    const g = this.input!.geometry;
    const {inHeight, inWidth, inChannels, outHeight, outWidth} = g;
    const rowsPerImage = outHeight * outWidth;
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
      this.exports.im2col(4 * (this.bandAt - first * rowStep), 4 * (this.aAt + done * this.k),
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
    const {x, geometry: g} = this.input!;
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
    const {heap} = this;
    if (length > 256) {
      heap.set(x.subarray(from, from + length), to);
    } else {
      for (let i = 0; i < length; i++) heap[to + i] = x[from + i];
    }
  }

  multiply(m: number, out: Float32Array, outOffset: number, rs: number, cs: number): void {
    const {heap, cAt, width, n} = this;
    this.exports.gemm(4 * this.aAt, 0, 4 * cAt, roundUp(m, this.MR), this.k, width);
    if (cs === 1 && rs === n && width === n && m * n > 64) {
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
}

export const wasmGemm: Gemm = {
  name: 'wasm',
  preferredTileRows: 256,
  begin: (filter, k, n, maxRows, input) => new WasmGemmSession(filter, k, n, maxRows, input)
};

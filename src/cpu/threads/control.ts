import type {ConvGeometry} from '../../geometry';

/**
 * The control block every thread of a pool reads: i32 words at the start of the shared
 * memory. The threaded build's work loop (gemm/wasm/threads.wat, runTickets) reads the
 * job's words at these indices (its offsets are 4 × the index).
 */
export const Control = {
  /** Bumped per job; idle workers wait on it. */
  GENERATION: 0,
  /** Tickets finished in this job; the caller waits on it. */
  DONE: 1,
  /** Words 2-3, one i64: low half the next ticket, high half the job's ticket count. */
  NEXT: 2,
  /**
   * Test hook: worker i + 1 takes a ticket of the next job that has one left and dies with
   * it, as a crashed thread would.
   */
  DIE: 4,
  /** Workers that have started and wait for jobs. */
  READY: 5,
  /**
   * The job: 1 = patch rows from the module's im2col, 0 = rows of A already in memory, 3 = a
   * depthwise convolution (the module's im2col and channelwise product).
   */
  MODE: 8,
  ROWS_PER_TICKET: 9,
  /** Tickets per block of rows (blocks of output columns). */
  COLUMN_BLOCKS: 10,
  COLUMNS_PER_TICKET: 11,
  TOTAL_ROWS: 12,
  /** Byte address of A (mode 0) or of the first thread's A region (mode 1). */
  A: 13,
  /** Bytes between two threads' A regions (mode 1). */
  A_THREAD_STRIDE: 14,
  LDA: 15,
  B: 16,
  C: 17,
  LDC: 18,
  K: 19,
  /** B's and C's columns, a multiple of NR. */
  N: 20,
  // im2col's (mode 1): byte address of x, then its strides and the geometry, in its order.
  X: 21,
  IMAGE_STEP: 22,
  ROW_STEP: 23,
  COL_STEP: 24,
  CHANNEL_STEP: 25,
  IN_HEIGHT: 26,
  IN_WIDTH: 27,
  IN_CHANNELS: 28,
  OUT_HEIGHT: 29,
  OUT_WIDTH: 30,
  FILTER_HEIGHT: 31,
  FILTER_WIDTH: 32,
  STRIDE_HEIGHT: 33,
  STRIDE_WIDTH: 34,
  DILATION_HEIGHT: 35,
  DILATION_WIDTH: 36,
  PAD_TOP: 37,
  PAD_LEFT: 38,
  /** Byte address of the job's finished-ticket counts, one i32 per block of rows. */
  ROW_DONE: 39,
  // A depthwise convolution's (mode 3): patch rows per micro-tile, the channel multiplier.
  MICRO_ROWS: 40,
  MULTIPLIER: 41,
} as const;

/** Bytes the control block takes at the start of the memory (the rest is the job's). */
export const CONTROL_BYTES = 256;

/**
 * The words of the module's im2col for geometry g (its input, with `channels` channels, at
 * byte xAt of the shared memory): the strides of x's layout and the geometry.
 */
export function im2colWords(g: ConvGeometry, xAt: number, channels: number):
    Array<[number, number]> {
  const channelsLast = g.dataFormat === 'channelsLast';
  const {inHeight, inWidth} = g;
  return [
    [Control.X, xAt], [Control.IMAGE_STEP, inHeight * inWidth * channels],
    [Control.ROW_STEP, channelsLast ? inWidth * channels : inWidth],
    [Control.COL_STEP, channelsLast ? channels : 1],
    // One channel in NCHW lies like NHWC: its columns are contiguous.
    [Control.CHANNEL_STEP, channelsLast || channels === 1 ? 1 : inHeight * inWidth],
    [Control.IN_HEIGHT, inHeight], [Control.IN_WIDTH, inWidth], [Control.IN_CHANNELS, channels],
    [Control.OUT_HEIGHT, g.outHeight], [Control.OUT_WIDTH, g.outWidth],
    [Control.FILTER_HEIGHT, g.filterHeight], [Control.FILTER_WIDTH, g.filterWidth],
    [Control.STRIDE_HEIGHT, g.strideHeight], [Control.STRIDE_WIDTH, g.strideWidth],
    [Control.DILATION_HEIGHT, g.dilationHeight], [Control.DILATION_WIDTH, g.dilationWidth],
    [Control.PAD_TOP, g.padInfo.top], [Control.PAD_LEFT, g.padInfo.left],
  ];
}

/**
 * Output rows [first, end) of a convolution with `channels` output channels and
 * `rowsPerImage` positions an image, as runs the output's layout writes at once (channels
 * first: within one image, so each of their channels is one run, as the epilogue expects):
 * [row0, rows, offset, rowStride, colStride], row r's channel o at offset + (r - row0) *
 * rowStride + o * colStride.
 */
export function* outputRuns(first: number, end: number, rowsPerImage: number, channels: number,
                            channelsLast: boolean):
    Generator<[number, number, number, number, number]> {
  for (let row0 = first, rows = 0; row0 < end; row0 += rows) {
    if (channelsLast) {
      rows = end - row0;
      yield [row0, rows, row0 * channels, channels, 1];
    } else {
      const image = Math.floor(row0 / rowsPerImage), position = row0 - image * rowsPerImage;
      rows = Math.min(end - row0, rowsPerImage - position);
      yield [row0, rows, image * channels * rowsPerImage + position, 1, rowsPerImage];
    }
  }
}

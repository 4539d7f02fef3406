/**
 * vol2col, im2col's 3D form: one patch row per output position (outDepth, outRow, outCol),
 * taps in (kd, kh, kw, c) order, tfjs's Conv3D filter order; zeros over the padding. And
 * its adjoint, col2vol, for the transposed 3D convolution.
 */
import type {Conv3dGeometry} from '../geometry';
import type {PatchSource} from './patch_source';

/** Where the window of flat row `flatRow` starts: image and first input (depth, row, col). */
function windowOrigin(g: Conv3dGeometry, flatRow: number):
    {image: number, inDepth0: number, inRow0: number, inCol0: number} {
  const {outDepth, outHeight, outWidth} = g;
  const perImage = outDepth * outHeight * outWidth;
  const image = Math.floor(flatRow / perImage);
  let position = flatRow - image * perImage;
  const outPlane = outHeight * outWidth;
  const d = Math.floor(position / outPlane);
  position -= d * outPlane;
  const row = Math.floor(position / outWidth);
  const col = position - row * outWidth;
  return {
    image,
    inDepth0: d * g.strideDepth - g.padInfo.front,
    inRow0: row * g.strideHeight - g.padInfo.top,
    inCol0: col * g.strideWidth - g.padInfo.left
  };
}

/** Strides of x (or dx) in floats: image, depth, row, column, channel. */
function volumeStrides(g: Conv3dGeometry): [number, number, number, number, number] {
  const {inDepth, inHeight, inWidth, inChannels} = g;
  const volume = inDepth * inHeight * inWidth;
  return g.dataFormat === 'channelsLast' ?
      [volume * inChannels, inHeight * inWidth * inChannels, inWidth * inChannels, inChannels, 1] :
      [volume * inChannels, inHeight * inWidth, inWidth, 1, volume];
}

/** Calls `tap(t, inOffset)` for each tap t of the row's window inside the volume. */
function forEachInsideTap(g: Conv3dGeometry, flatRow: number,
                          tap: (t: number, at: number) => void): void {
  const {inDepth, inHeight, inWidth, filterDepth, filterHeight, filterWidth} = g;
  const [imageStep, depthStep, rowStep, colStep] = volumeStrides(g);
  const {image, inDepth0, inRow0, inCol0} = windowOrigin(g, flatRow);
  let t = 0;
  for (let kd = 0; kd < filterDepth; kd++) {
    const d = inDepth0 + kd * g.dilationDepth;
    for (let kh = 0; kh < filterHeight; kh++) {
      const r = inRow0 + kh * g.dilationHeight;
      for (let kw = 0; kw < filterWidth; kw++, t++) {
        const c = inCol0 + kw * g.dilationWidth;
        if (d < 0 || d >= inDepth || r < 0 || r >= inHeight || c < 0 || c >= inWidth) continue;
        tap(t, image * imageStep + d * depthStep + r * rowStep + c * colStep);
      }
    }
  }
}

/** Writes 3D patch rows [flatRow0, flatRow0 + rows) to dst (row r at dstOffset + r * lda). */
export function fillVolumeRows(x: Float32Array, g: Conv3dGeometry, flatRow0: number,
                               rows: number, dst: Float32Array, dstOffset: number,
                               lda: number): void {
  const {inDepth, inHeight, inWidth, inChannels: channels, filterDepth, filterHeight,
         filterWidth, dilationDepth, dilationHeight, dilationWidth} = g;
  const [imageStep, depthStep, rowStep, colStep, channelStep] = volumeStrides(g);
  const tapRow = filterWidth * channels;
  // Channels last with undilated width: a filter row's taps read one contiguous run.
  const runs = channelStep === 1 && dilationWidth === 1;
  for (let r = 0; r < rows; r++) {
    const {image, inDepth0, inRow0, inCol0} = windowOrigin(g, flatRow0 + r);
    const kwFirst = inCol0 >= 0 ? 0 : Math.min(filterWidth, Math.ceil(-inCol0 / dilationWidth));
    const kwEnd = Math.max(kwFirst,
        Math.min(filterWidth, Math.ceil((inWidth - inCol0) / dilationWidth)));
    let to = dstOffset + r * lda;
    for (let kd = 0; kd < filterDepth; kd++) {
      const d = inDepth0 + kd * dilationDepth;
      for (let kh = 0; kh < filterHeight; kh++, to += tapRow) {
        const row = inRow0 + kh * dilationHeight;
        if (d < 0 || d >= inDepth || row < 0 || row >= inHeight || kwEnd === kwFirst) {
          dst.fill(0, to, to + tapRow);
          continue;
        }
        if (kwFirst > 0) dst.fill(0, to, to + kwFirst * channels);
        const base = image * imageStep + d * depthStep + row * rowStep;
        if (runs) {
          const from = base + (inCol0 + kwFirst) * colStep;
          const length = (kwEnd - kwFirst) * channels;
          const at = to + kwFirst * channels;
          for (let i = 0; i < length; i++) dst[at + i] = x[from + i];
        } else {
          for (let kw = kwFirst; kw < kwEnd; kw++) {
            const from = base + (inCol0 + kw * dilationWidth) * colStep;
            const at = to + kw * channels;
            for (let c = 0; c < channels; c++) dst[at + c] = x[from + c * channelStep];
          }
        }
        if (kwEnd < filterWidth) dst.fill(0, to + kwEnd * channels, to + tapRow);
      }
    }
  }
}

/** col2vol: adds patch rows [flatRow0, flatRow0 + rows) back onto the volume `dx`. */
export function addVolumeRows(patch: Float32Array, patchOffset: number, lda: number,
                              g: Conv3dGeometry, flatRow0: number, rows: number,
                              dx: Float32Array): void {
  const channels = g.inChannels;
  const channelStep = volumeStrides(g)[4];
  for (let r = 0; r < rows; r++) {
    const rowAt = patchOffset + r * lda;
    forEachInsideTap(g, flatRow0 + r, (t, at) => {
      const from = rowAt + t * channels;
      for (let c = 0; c < channels; c++) dx[at + c * channelStep] += patch[from + c];
    });
  }
}

/**
 * tfjs's cpu Conv3D skips the taps over the padding; the GEMM multiplies their zeros, which
 * differs only for an Inf or NaN weight (0 · Inf = NaN). For such a filter, rows whose
 * window leaves the volume are summed again from their inside taps.
 */
export function resumVolumeWindows(patch: Float32Array, patchOffset: number, lda: number,
                                   filter: Float32Array, g: Conv3dGeometry, flatRow0: number,
                                   rows: number, out: Float32Array, outOffset: number,
                                   rowStride: number, colStride: number): void {
  const {inChannels, outChannels} = g;
  const taps = g.filterDepth * g.filterHeight * g.filterWidth;
  for (let r = 0; r < rows; r++) {
    const inside: number[] = [];
    forEachInsideTap(g, flatRow0 + r, t => inside.push(t));
    if (inside.length === taps) continue;
    const rowAt = patchOffset + r * lda;
    for (let j = 0; j < outChannels; j++) {
      let sum = 0;
      for (const t of inside) {
        for (let c = 0; c < inChannels; c++) {
          const p = t * inChannels + c;
          sum += patch[rowAt + p] * filter[p * outChannels + j];
        }
      }
      out[outOffset + r * rowStride + j * colStride] = sum;
    }
  }
}

/** vol2col in TypeScript, as a patch source for the GEMM. */
export class Vol2colSource implements PatchSource {
  constructor(private readonly x: Float32Array, private readonly g: Conv3dGeometry) {}

  scratchFloats(): number {
    return 0;
  }

  fill(flatRow0: number, rows: number, dst: Float32Array, dstOffset: number, lda: number):
      void {
    fillVolumeRows(this.x, this.g, flatRow0, rows, dst, dstOffset, lda);
  }
}

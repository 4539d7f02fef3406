/**
 * im2col on the CPU: writes rows of the patch matrix (one row per output position, taps in
 * (kh, kw, c) order, zeros where the dilated window hangs over the padding).
 */
import {ConvGeometry, patchLength} from '../geometry';

/**
 * Where the patch of flat row `flatRow` (image * outHeight * outWidth + outRow * outWidth +
 * outCol) starts: its image and the input row and column of its first tap (negative or past
 * the edge inside the padding). Shared by im2col, col2im and the padded-tap sums, so all
 * walk one geometry.
 */
export function patchOrigin(g: ConvGeometry, flatRow: number): {image: number, inRow0: number, inCol0: number} {
  const rowsPerImage = g.outHeight * g.outWidth;
  const image = Math.floor(flatRow / rowsPerImage);
  const position = flatRow - image * rowsPerImage;
  const outRow = Math.floor(position / g.outWidth);
  const outCol = position - outRow * g.outWidth;
  return {
    image,
    inRow0: outRow * g.strideHeight - g.padInfo.top,
    inCol0: outCol * g.strideWidth - g.padInfo.left
  };
}

/**
 * Writes `rows` patch-matrix rows starting at flat row `flatRow0` (flat row = image *
 * outHeight * outWidth + outRow * outWidth + outCol; tiles may span images) to `patch`, row
 * r at patchOffset + r * lda.
 */
export function fillPatchRows(x: Float32Array, g: ConvGeometry, flatRow0: number, rows: number,
                              patch: Float32Array, patchOffset = 0, lda = patchLength(g)): void {
  const {inHeight, inWidth, inChannels, filterHeight, filterWidth} = g;
  const {dilationHeight, dilationWidth} = g;
  const channelsLast = g.dataFormat === 'channelsLast';
  const tapRowLength = filterWidth * inChannels;
  const imageSize = inHeight * inWidth * inChannels;
  const planeSize = inHeight * inWidth;
  for (let r = 0; r < rows; r++) {
    let dst = patchOffset + r * lda;
    const {image, inRow0, inCol0} = patchOrigin(g, flatRow0 + r);
    // The taps kw in [kwFirst, kwEnd) read inside the image; the others read padding.
    const kwFirst = inCol0 >= 0 ? 0 : Math.min(filterWidth, Math.ceil(-inCol0 / dilationWidth));
    const kwEnd = Math.max(kwFirst,
        Math.min(filterWidth, Math.ceil((inWidth - inCol0) / dilationWidth)));
    for (let kh = 0; kh < filterHeight; kh++) {
      const inRow = inRow0 + kh * dilationHeight;
      if (inRow < 0 || inRow >= inHeight) {
        patch.fill(0, dst, dst + tapRowLength);
        dst += tapRowLength;
        continue;
      }
      if (kwFirst > 0) patch.fill(0, dst, dst + kwFirst * inChannels);
      if (channelsLast) {
        const rowBase = image * imageSize + inRow * inWidth * inChannels;
        if (dilationWidth === 1) {
          // Taps of one filter row read one contiguous run of the input row.
          const src = rowBase + (inCol0 + kwFirst) * inChannels;
          const length = (kwEnd - kwFirst) * inChannels;
          const at = dst + kwFirst * inChannels;
          for (let i = 0; i < length; i++) patch[at + i] = x[src + i];
        } else {
          for (let kw = kwFirst; kw < kwEnd; kw++) {
            const src = rowBase + (inCol0 + kw * dilationWidth) * inChannels;
            const at = dst + kw * inChannels;
            for (let c = 0; c < inChannels; c++) patch[at + c] = x[src + c];
          }
        }
      } else {
        const rowBase = image * imageSize + inRow * inWidth;
        for (let kw = kwFirst; kw < kwEnd; kw++) {
          const src = rowBase + inCol0 + kw * dilationWidth;
          const at = dst + kw * inChannels;
          for (let c = 0; c < inChannels; c++) patch[at + c] = x[src + c * planeSize];
        }
      }
      if (kwEnd < filterWidth) patch.fill(0, dst + kwEnd * inChannels, dst + tapRowLength);
      dst += tapRowLength;
    }
  }
}

/** The whole patch matrix of every image: [batch * outHeight * outWidth, patchLength]. */
export function patchMatrix(x: Float32Array, g: ConvGeometry): Float32Array {
  const rows = g.batchSize * g.outHeight * g.outWidth;
  const patch = new Float32Array(rows * patchLength(g));
  fillPatchRows(x, g, 0, rows, patch);
  return patch;
}

/**
 * col2im, the adjoint of fillPatchRows: adds every patch-matrix row of `patch` (all images)
 * back onto the input positions its taps read; taps over the padding are dropped.
 */
export function addPatchesToImage(patch: Float32Array, g: ConvGeometry, image: Float32Array):
    void {
  addPatchRowsToImage(patch, 0, patchLength(g), g, 0, g.batchSize * g.outHeight * g.outWidth,
                      image, 0, g.inChannels);
}

/**
 * Adds patch rows [flatRow0, flatRow0 + rows) (row r at patch[patchOffset + r * lda]) onto
 * the image, where a row holds the taps of `channels` channels starting at `channel0`
 * ((kh, kw, c) order, c < channels): one group's columns, or all of them.
 */
export function addPatchRowsToImage(patch: Float32Array, patchOffset: number, lda: number,
                                    g: ConvGeometry, flatRow0: number, rows: number,
                                    image: Float32Array, channel0: number, channels: number):
    void {
  const {inHeight, inWidth, inChannels, filterHeight, filterWidth} = g;
  const {dilationHeight, dilationWidth} = g;
  const channelsLast = g.dataFormat === 'channelsLast';
  const imageSize = inHeight * inWidth * inChannels;
  const planeSize = inHeight * inWidth;
  // Offset between channels of one input pixel.
  const channelStep = channelsLast ? 1 : planeSize;
  const channelBase = channel0 * channelStep;
  for (let r = 0; r < rows; r++) {
    const {image: b, inRow0, inCol0} = patchOrigin(g, flatRow0 + r);
    let src = patchOffset + r * lda;
    for (let kh = 0; kh < filterHeight; kh++) {
      const inRow = inRow0 + kh * dilationHeight;
      for (let kw = 0; kw < filterWidth; kw++, src += channels) {
        const inCol = inCol0 + kw * dilationWidth;
        if (inRow < 0 || inRow >= inHeight || inCol < 0 || inCol >= inWidth) continue;
        let dst = b * imageSize + channelBase +
            (channelsLast ? (inRow * inWidth + inCol) * inChannels : inRow * inWidth + inCol);
        for (let c = 0; c < channels; c++, dst += channelStep) image[dst] += patch[src + c];
      }
    }
  }
}

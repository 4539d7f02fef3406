/**
 * How a convolution's work is cut to fit IM2COL_WORKSPACE_BYTES: patch rows per tile, tiles
 * of whole output rows, and a tile as a convolution of its own (the gradients use it).
 */
import {patchLength} from './conv2d';
import type {Conv2dDataFormat, Conv2dSettings, ConvGeometry} from './types';

/**
 * How many patch-matrix rows (output positions) fit a workspace of `budgetBytes` float32
 * values, rounded down to a multiple of `rowMultiple` where that leaves at least one
 * multiple; never less than one row, never more than one image's rows. An unbounded
 * budget (Infinity) gives one image's rows.
 */
export function patchRowsPerTile(g: ConvGeometry, budgetBytes: number, rowMultiple = 1): number {
  const imageRows = g.outHeight * g.outWidth;
  // Capped before the rounding: Infinity % rowMultiple is NaN.
  const fit = Math.min(imageRows, Math.floor(budgetBytes / (4 * Math.max(1, patchLength(g)))));
  const aligned = fit >= rowMultiple ? fit - (fit % rowMultiple) : fit;
  return Math.max(1, Math.min(imageRows, aligned));
}

/**
 * Tiles [row0, rows) of the `images * rowsPerImage` output positions (patch-matrix rows), at
 * most `tileRows` each; channels-first tiles stay within one image, so each of their output
 * channels is one run.
 */
export function* positionTiles(images: number, rowsPerImage: number, channelsLast: boolean,
                               tileRows: number): Generator<[number, number]> {
  const totalRows = images * rowsPerImage;
  for (let row0 = 0, rows = 0; row0 < totalRows; row0 += rows) {
    const limit = channelsLast ? totalRows : (Math.floor(row0 / rowsPerImage) + 1) * rowsPerImage;
    rows = Math.min(tileRows, limit - row0);
    yield [row0, rows];
  }
}

/**
 * A tile of a convolution's outputs: images [image0, image0 + images) and, in each, output
 * rows [outRow0, outRow0 + outRows).
 */
export interface OutputTile {
  image0: number;
  images: number;
  outRow0: number;
  outRows: number;
}

/**
 * Tiles of whole output rows whose patch matrices fit `budgetBytes`, in output order: groups
 * of whole images while one image fits, else bands of rows of one image (at least one row
 * each, so a single output row wider than the budget still makes a tile).
 */
export function outputTiles(g: ConvGeometry, budgetBytes: number): OutputTile[] {
  const rowBytes = 4 * Math.max(1, patchLength(g));
  const imageBytes = g.outHeight * g.outWidth * rowBytes;
  const tiles: OutputTile[] = [];
  if (imageBytes <= budgetBytes) {
    // At most the batch: an unbounded budget makes one tile, not a loop that steps by Infinity.
    const images = imageBytes === 0 ? g.batchSize :
        Math.max(1, Math.min(g.batchSize, Math.floor(budgetBytes / imageBytes)));
    for (let image0 = 0; image0 < g.batchSize; image0 += images) {
      tiles.push({image0, images: Math.min(images, g.batchSize - image0), outRow0: 0,
                  outRows: g.outHeight});
    }
    return tiles;
  }
  const outRows = Math.max(1, Math.min(g.outHeight, Math.floor(budgetBytes / (g.outWidth * rowBytes))));
  for (let image0 = 0; image0 < g.batchSize; image0++) {
    for (let outRow0 = 0; outRow0 < g.outHeight; outRow0 += outRows) {
      tiles.push({image0, images: 1, outRow0, outRows: Math.min(outRows, g.outHeight - outRow0)});
    }
  }
  return tiles;
}

/**
 * One tile as a convolution of its own: the input rows it reads, [inRow0, inRow0 + inRows),
 * and explicit settings under which the convolution of those rows has exactly the tile's
 * outputs. inRows is 0 where the tile reads only padding (its patches are all zeros; the
 * settings then mean nothing).
 */
export function tileConvolution(g: ConvGeometry, tile: OutputTile, dataFormat: Conv2dDataFormat):
    {inRow0: number, inRows: number, settings: Conv2dSettings} {
  const {strideHeight, strideWidth, padInfo} = g;
  const firstRead = tile.outRow0 * strideHeight - padInfo.top;
  const endRead = (tile.outRow0 + tile.outRows - 1) * strideHeight - padInfo.top +
      g.effectiveFilterHeight;
  const inRow0 = Math.max(0, Math.min(g.inHeight, firstRead));
  const inRows = Math.max(0, Math.min(g.inHeight, endRead) - inRow0);
  const heightPad: [number, number] = [inRow0 - firstRead, endRead - inRow0 - inRows];
  // The padding on the right that gives exactly outWidth columns (a 'ceil' rounding may
  // need more than the original; less than zero is absorbed by the truncation).
  const right = Math.max(0, (g.outWidth - 1) * strideWidth + g.effectiveFilterWidth -
      g.inWidth - padInfo.left);
  const widthPad: [number, number] = [padInfo.left, right];
  return {
    inRow0,
    inRows,
    settings: {
      strides: [strideHeight, strideWidth],
      dilations: [g.dilationHeight, g.dilationWidth],
      dataFormat,
      pad: dataFormat === 'NHWC' ? [[0, 0], heightPad, widthPad, [0, 0]] :
                                   [[0, 0], [0, 0], heightPad, widthPad]
    }
  };
}


/**
 * The gradients of a 2D convolution, the im2col way, for any stride, dilation, padding and
 * data format the forward pass accepts (tfjs 4.22's own refuse dilation > 1):
 *   filter gradient  dW = Pᵀ · dY        (P the patch matrix of x, dY one row per output position)
 *   input gradient   dx = col2im(dY · Wᵀ) (the patch-matrix gradient scattered back)
 * (per channel group for a grouped or depthwise convolution)
 * Both are GEMMs (tfjs's matMul on the active backend) next to this package's Im2col or
 * Col2im kernel. Like the forward pass, they run in tiles of output rows whose patch
 * matrices fit IM2COL_WORKSPACE_BYTES: dW sums the tiles' products; each tile's input
 * gradient covers the input rows it read, and the tiles of one image are added up.
 */
import {add, concat, dispose, engine, getBackend, getKernel, matMul, pad, reshape, slice, Tensor, Tensor4D, tidy, transpose, zeros} from '@tensorflow/tfjs-core';
import {workspaceBytes} from '../config';
import {conv2dGeometry, Conv2dSettings, OutputTile, outputTiles, tileConvolution} from '../geometry';
import {Col2im, Col2imAttrs, FusedIm2colConv2D, Im2col, Im2colAttrs} from '../kernel_names';
import {state} from '../state';

export interface Conv2dGradients {
  dx: () => Tensor4D;
  dFilter: () => Tensor4D;
}

/**
 * Whether the active backend can run every kernel the im2col gradients run (Im2col, Col2im,
 * and FusedIm2colConv2D, which recomputes a PReLU/leaky-ReLU input).
 */
export function im2colGradientsAvailable(): boolean {
  const backend = getBackend();
  const registered = state.drivers.get(backend);
  return registered != null && registered.driver.unsupported() == null &&
      [Im2col, Col2im, FusedIm2colConv2D].every(name => getKernel(name, backend) != null);
}

/** Patch-matrix attributes of a convolution with this filter size and these settings. */
export function patchAttrs(filterShape: number[], settings: Conv2dSettings): Im2colAttrs {
  const {strides, pad, dilations, dataFormat, dimRoundingMode} = settings;
  return {filterSize: [filterShape[0], filterShape[1]], strides, pad, dilations, dataFormat,
          dimRoundingMode};
}

/** The patch matrix of `x`, [batch, outHeight * outWidth, kh * kw * inChannels]. */
export function runIm2col(x: Tensor, attrs: Im2colAttrs): Tensor {
  return engine().runKernel(Im2col, {x}, attrs as unknown as {}) as Tensor;
}

/** col2im of patch-matrix rows back into an image of `inputShape`. */
export function runCol2im(patches: Tensor, attrs: Col2imAttrs): Tensor4D {
  return engine().runKernel(Col2im, {x: patches}, attrs as unknown as {}) as Tensor4D;
}

/** `dy` (the convolution's output layout) as [batch * outHeight * outWidth, outChannels]. */
function outputRows(dy: Tensor4D, dataFormat: Conv2dSettings['dataFormat']): Tensor {
  const channelsLast = dataFormat === 'NHWC' ? dy : transpose(dy, [0, 2, 3, 1]);
  return reshape(channelsLast, [-1, channelsLast.shape[3]]);
}

/**
 * Both gradients of one convolution (or of one tile of it, as its own convolution). A
 * grouped one multiplies group by group (batched matMuls): group i's patch columns are the
 * taps of its channels, its filter the columns of its output channels.
 */
function wholeGradients(dyRows: Tensor, x: Tensor4D, filter: Tensor4D,
                        settings: Conv2dSettings, groups: number): Conv2dGradients {
  const attrs = patchAttrs(filter.shape, settings);
  const [filterHeight, filterWidth, groupChannels, outChannels] = filter.shape;
  const taps = filterHeight * filterWidth;
  const depth = taps * groupChannels;
  if (groups === 1) {
    return {
      dFilter: () => {
        const patches = reshape(runIm2col(x, attrs), [-1, depth]);
        return reshape(matMul(patches, dyRows, true, false), filter.shape);
      },
      dx: () => {
        const patchGradient = matMul(dyRows, reshape(filter, [depth, outChannels]), false, true);
        return runCol2im(reshape(patchGradient, [x.shape[0], -1, depth]),
                         {...attrs, inputShape: x.shape});
      }
    };
  }
  const groupOutChannels = outChannels / groups;
  // dY as [groups, rows, outChannels / groups].
  const groupedDy = () => transpose(reshape(dyRows, [-1, groups, groupOutChannels]), [1, 0, 2]);
  return {
    dFilter: () => {
      const patches = transpose(reshape(runIm2col(x, attrs), [-1, taps, groups, groupChannels]),
                                [2, 0, 1, 3]);
      const product = matMul(reshape(patches, [groups, -1, depth]), groupedDy(), true, false);
      return reshape(transpose(reshape(product, [groups, taps, groupChannels, groupOutChannels]),
                               [1, 2, 0, 3]), filter.shape);
    },
    dx: () => {
      const groupFilters = transpose(reshape(filter, [depth, groups, groupOutChannels]),
                                     [1, 0, 2]);
      const product = matMul(groupedDy(), groupFilters, false, true);
      const patchGradient = transpose(reshape(product, [groups, -1, taps, groupChannels]),
                                      [1, 2, 0, 3]);
      return runCol2im(reshape(patchGradient, [x.shape[0], -1, taps * groups * groupChannels]),
                       {...attrs, inputShape: x.shape});
    }
  };
}

export function conv2dBackprop(dy: Tensor4D, x: Tensor4D, filter: Tensor4D,
                               settings: Conv2dSettings): Conv2dGradients {
  const g = conv2dGeometry(x.shape, filter.shape, settings);
  if (dy.size === 0 || x.size === 0 || filter.size === 0) {
    // No output or nothing to read: every gradient is zero (and reshapes cannot infer sizes).
    return {dx: () => zeros(x.shape), dFilter: () => zeros(filter.shape)};
  }
  const tiles = outputTiles(g, workspaceBytes());
  const dyRows = outputRows(dy, settings.dataFormat);
  if (tiles.length <= 1) return wholeGradients(dyRows, x, filter, settings, g.groups);

  const channelsLast = settings.dataFormat === 'NHWC';
  const rowAxis = channelsLast ? 1 : 2;
  /** A tile's share of the gradients, as its own convolution; null where it reads only padding. */
  const tileGradients = (tile: OutputTile) => {
    const {inRow0, inRows, settings: tileSettings} = tileConvolution(g, tile, settings.dataFormat);
    if (inRows === 0) return null;
    const begin = [tile.image0, 0, 0, 0], size = [tile.images, -1, -1, -1];
    begin[rowAxis] = inRow0;
    size[rowAxis] = inRows;
    const positions = g.outHeight * g.outWidth;
    const firstRow = tile.image0 * positions + tile.outRow0 * g.outWidth;
    const rows = tile.images * tile.outRows * g.outWidth;
    return {inRow0, inRows, gradients: wholeGradients(slice(dyRows, [firstRow, 0], [rows, -1]),
                                                      slice(x, begin, size), filter, tileSettings,
                                                      g.groups)};
  };
  return {
    dFilter: () => {
      let sum: Tensor = zeros(filter.shape);
      for (const tile of tiles) {
        // One tile's intermediates at a time: that is what bounds the memory.
        const next = tidy(() => {
          const share = tileGradients(tile);
          return share == null ? sum : add(sum, share.gradients.dFilter());
        });
        if (next !== sum) sum.dispose();
        sum = next;
      }
      return sum as Tensor4D;
    },
    dx: () => {
      // Tiles of whole images follow each other; bands of one image are added up.
      const images: Tensor[] = [];
      let lastImage0 = -1;
      for (const tile of tiles) {
        const previous = tile.image0 === lastImage0 ? images.pop() : undefined;
        images.push(tidy(() => {
          const share = tileGradients(tile);
          const shape = [...x.shape];
          shape[0] = tile.images;
          let part: Tensor = zeros(shape);
          if (share != null) {
            part = share.gradients.dx();
            if (share.inRows < g.inHeight) {
              const paddings: [number, number][] = [[0, 0], [0, 0], [0, 0], [0, 0]];
              paddings[rowAxis] = [share.inRow0, g.inHeight - share.inRow0 - share.inRows];
              part = pad(part, paddings);
            }
          }
          return previous == null ? part : add(previous, part);
        }));
        previous?.dispose();
        lastImage0 = tile.image0;
      }
      const dx = concat(images, 0) as Tensor4D;
      dispose(images);
      return dx;
    }
  };
}

/**
 * conv2dGeometry computes the geometry itself (computeConv2DInfo costs a tenth of a small
 * convolution); here it must equal tfjs's backend_util.computeConv2DInfo, given the numeric
 * pad as the explicit padding it means (tfjs 4.22 sizes numeric pads wrongly, see README),
 * plus its channel groups (1 here; the grouped family is pinned by its sweeps).
 * The handed-over geometry of an op reaches only the kernel call it was checked for.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import {backend_util} from '@tensorflow/tfjs-core';
import {im2colConv2d} from '../src';
import {Conv2dPad, conv2dGeometry, Conv2dSettings, DimRoundingMode, handOverGeometry, takeHandedOverGeometry} from '../src/geometry';
import {Random} from './helpers/random';

function tfjsReference(xShape: number[], filterShape: number[], s: Conv2dSettings) {
  const nhwc = s.dataFormat === 'NHWC';
  const pad: Conv2dPad = typeof s.pad !== 'number' ? s.pad :
      nhwc ? [[0, 0], [s.pad, s.pad], [s.pad, s.pad], [0, 0]] :
             [[0, 0], [0, 0], [s.pad, s.pad], [s.pad, s.pad]];
  return backend_util.computeConv2DInfo(
      xShape as [number, number, number, number], filterShape as [number, number, number, number],
      s.strides, s.dilations, pad, s.dimRoundingMode, false,
      nhwc ? 'channelsLast' : 'channelsFirst');
}

describe('conv2dGeometry', () => {
  it('equals computeConv2DInfo on 2000 random settings, negative and zero outputs included', () => {
    const random = new Random(41);
    const roundings: (DimRoundingMode | undefined)[] = [undefined, 'floor', 'round', 'ceil'];
    for (let i = 0; i < 2000; i++) {
      const dataFormat = random.pick(['NHWC', 'NCHW'] as const);
      const [batch, height, width, channels] =
          [random.int(0, 3), random.int(1, 12), random.int(1, 12), random.int(1, 5)];
      const xShape = dataFormat === 'NHWC' ? [batch, height, width, channels] :
                                             [batch, channels, height, width];
      const filterShape = [random.int(1, 6), random.int(1, 6), channels, random.int(1, 4)];
      const pair = () => random.next() < 0.3 ? random.int(1, 3) :
          [random.int(1, 3), random.int(1, 3)] as [number, number];
      const explicit = (): Conv2dPad => {
        const [t, b, l, r] = [0, 0, 0, 0].map(() => random.int(0, 3));
        return dataFormat === 'NHWC' ? [[0, 0], [t, b], [l, r], [0, 0]] :
                                       [[0, 0], [0, 0], [t, b], [l, r]];
      };
      const pad = random.pick(['same', 'valid', 'number', 'explicit'] as const);
      const settings: Conv2dSettings = {
        strides: pair(), dilations: pair(), dataFormat,
        pad: pad === 'number' ? random.int(0, 3) : pad === 'explicit' ? explicit() : pad,
        dimRoundingMode: pad === 'number' || pad === 'explicit' ? random.pick(roundings) : undefined
      };
      expect({settings, xShape, filterShape,
              geometry: conv2dGeometry(xShape, filterShape, settings)})
          .toEqual({settings, xShape, filterShape,
                    geometry: {...tfjsReference(xShape, filterShape, settings), groups: 1}});
    }
  });
});

describe('handed-over geometry', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });

  it('is taken once, and only with the attrs object it was handed over with', () => {
    const settings: Conv2dSettings = {strides: 1, pad: 'valid', dataFormat: 'NHWC', dilations: 1};
    const geometry = conv2dGeometry([1, 4, 4, 1], [2, 2, 1, 1], settings);
    handOverGeometry(settings, geometry);
    expect(takeHandedOverGeometry({...settings})).toBeUndefined();
    expect(takeHandedOverGeometry(settings)).toBe(geometry);
    expect(takeHandedOverGeometry(settings)).toBeUndefined();
  });

  it('does not leak into the next call when a kernel is run directly', () => {
    const x = tf.tensor4d([1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 3, 3, 1]);
    const filter = tf.tensor4d([1, 1, 1, 1], [2, 2, 1, 1]);
    const viaOp = im2colConv2d(x, filter, 1, 'valid');
    const attrs = {strides: 1, pad: 'same', dataFormat: 'NHWC', dilations: 1};
    const direct = tf.engine().runKernel('Im2colConv2D', {x, filter}, attrs) as tf.Tensor;
    const reference = tf.conv2d(x, filter, 1, 'same');
    expect(viaOp.shape).toEqual([1, 2, 2, 1]);
    expect(direct.shape).toEqual(reference.shape);
    expect(Array.from(direct.dataSync())).toEqual(Array.from(reference.dataSync()));
    tf.dispose([x, filter, viaOp, direct, reference]);
  });
});

/**
 * The webgl kernels at the edges, in headless Chromium: a layer too large for tf.conv2d's
 * im2col texture, chunked runs under a small workspace budget, a patch too large for any
 * texture, 1x1 convolutions read directly, the driver's epilogue, tfjs's Conv2D left
 * intact, Inf/NaN filters as tf.conv2d on webgl, and half-float textures. Argument errors,
 * op leaks, the fused op and gradients run on every backend (test/browser/shared_bodies).
 */
import type * as tfc from '@tensorflow/tfjs-core';
import {Conv2dCase, randomConv2dCase, randomConv1dCase} from '../helpers/conv_cases';
import {Random} from '../helpers/random';
import {TfjsPage} from './tfjs_page';

const HELPERS = {cases: './test/helpers/conv_cases.ts', driver: './src/webgl/conv_im2col.ts',
                 geometry: './src/geometry/index.ts'};

describe('webgl limits, leaks and errors', () => {
  let page: TfjsPage;

  beforeAll(async () => {
    page = await TfjsPage.open(HELPERS);
    await page.useBackend('webgl');
    const info = await page.webglInfo();
    console.log(`webgl page: WEBGL_VERSION ${info.version}, max texture size ` +
                `${info.maxTextureSize}, float32 render targets ${info.renderFloat32}`);
  }, 180000);

  afterAll(async () => {
    await page?.close();
  });

  it('with WEBGL_MAX_TEXTURE_SIZE 1024, tf.conv2d throws and im2colConv2d is right', async () => {
    const got = await page.run(async ({tf, lib}) => {
      const maxSize = tf.env().getNumber('WEBGL_MAX_TEXTURE_SIZE');
      const x = tf.randomUniform([1, 256, 256, 16], -1, 1, 'float32', 1) as tfc.Tensor4D;
      const filter = tf.randomUniform([3, 3, 16, 8], -1, 1, 'float32', 2) as tfc.Tensor4D;
      tf.env().set('WEBGL_MAX_TEXTURE_SIZE', 1024);
      let tfjsError = '';
      let ours: Float32Array;
      let stats;
      const start = tf.memory() as unknown as {numTensors: number};
      try {
        try {
          tf.conv2d(x, filter, 1, 'same').dataSync();
        } catch (error) {
          tfjsError = String(error);
        }
        lib.resetKernelStats();
        const out = lib.im2colConv2d(x, filter, 1, 'same');
        ours = out.dataSync() as Float32Array;
        out.dispose();
        stats = lib.kernelStats();
      } finally {
        tf.env().set('WEBGL_MAX_TEXTURE_SIZE', maxSize);
      }
      const leaked = (tf.memory() as unknown as {numTensors: number}).numTensors - start.numTensors;
      await tf.setBackend('cpu');
      const expected = tf.conv2d(x, filter, 1, 'same');
      const error = (globalThis as any).__tfjsPage.cases.relativeError(ours, expected.dataSync());
      expected.dispose();
      await tf.setBackend('webgl');
      tf.dispose([x, filter]);
      return {tfjsError, error, stats, leaked};
    });
    console.log(`texture limit 1024: tf.conv2d says "${got.tfjsError.slice(0, 120)}"; ` +
                `im2colConv2d relative error ${got.error.toExponential(2)}, peak patch texture ` +
                `${got.stats.peakWorkspaceBytes} bytes`);
    expect(got.tfjsError).toMatch(/greater than WebGL maximum/);
    expect(got.error).toBeLessThan(1e-4);
    expect(got.stats.calls['Im2colConv2D/webgl']).toBe(1);
    expect(got.stats.peakWorkspaceBytes).toBeLessThanOrEqual(1024 * 1024 * 16);
    expect(got.leaked).toBe(0);
  }, 300000);

  it('a 16 KiB workspace splits runs into many chunks (rows and columns) with the same results', async () => {
    const rng = new Random(555);
    const cases = [
      ...Array.from({length: 14}, () => randomConv2dCase(rng)),
      ...Array.from({length: 6}, () => randomConv1dCase(rng)),
    ];
    const results = await page.run(({tf, lib, cases: helpers}, list) => {
      const budget = tf.env().getNumber(lib.WORKSPACE_BYTES_FLAG);
      return list.map(c => {
        const reference = c.kind === 'conv2d' ? helpers.referenceConv2d(tf, c) : helpers.referenceConv1d(tf, c);
        const x = tf.tensor(c.x, c.xShape);
        const filter = tf.tensor(c.filter, c.filterShape);
        tf.env().set(lib.WORKSPACE_BYTES_FLAG, 16 * 1024);
        lib.resetKernelStats();
        const start = tf.memory() as unknown as {numTensors: number, numBytesInGPU: number};
        try {
          const out: tfc.Tensor = c.kind === 'conv2d' ?
              lib.im2colConv2d(x as never, filter as never, c.strides, c.pad, c.dataFormat, c.dilations, c.dimRoundingMode) :
              lib.im2colConv1d(x as never, filter as never, c.stride, c.pad, c.dataFormat, c.dilation);
          const error = helpers.relativeError(out.dataSync(), reference.dataSync());
          out.dispose();
          const end = tf.memory() as unknown as {numTensors: number, numBytesInGPU: number};
          return {error, peak: lib.kernelStats().peakWorkspaceBytes, leakedTensors: end.numTensors - start.numTensors};
        } finally {
          tf.env().set(lib.WORKSPACE_BYTES_FLAG, budget);
          tf.dispose([x, filter, reference]);
        }
      });
    }, cases);
    results.forEach(r => {
      expect(r.error).toBeLessThan(1e-4);
      expect(r.peak).toBeLessThanOrEqual(16 * 1024);
      expect(r.leakedTensors).toBe(0);
    });
  }, 600000);

  it('a patch row larger than a texture throws inside the kernel, leaking nothing', async () => {
    // (Argument errors and op leaks are checked on every backend: test/shared/errors.ts.)
    const got = await page.run(({tf, lib}) => {
      const memory = () => tf.memory() as unknown as {numTensors: number, numBytesInGPU: number};
      const start = memory();
      const maxSize = tf.env().getNumber('WEBGL_MAX_TEXTURE_SIZE');
      tf.env().set('WEBGL_MAX_TEXTURE_SIZE', 4);
      let message = 'no error';
      try {
        tf.tidy(() => { lib.im2colConv2d(tf.ones([1, 3, 3, 64]) as never, tf.ones([3, 3, 64, 2]) as never, 1, 'same'); });
      } catch (error) {
        message = String((error as Error).message);
      } finally {
        tf.env().set('WEBGL_MAX_TEXTURE_SIZE', maxSize);
      }
      return {start, end: memory(), message};
    });
    expect(got.message).toMatch(/does not fit a texture of 16 texels \(WEBGL_MAX_TEXTURE_SIZE/);
    expect(got.end.numTensors).toBe(got.start.numTensors);
    expect(got.end.numBytesInGPU).toBe(got.start.numBytesInGPU);
  }, 300000);

  it('1x1 convolutions of packed inputs (read as the patch matrix) and of slices match tf.conv2d', async () => {
    const got = await page.run(({tf, lib, cases: helpers}) => {
      // On the GPU, packed (a small op of CPU values would run on the cpu).
      const cpuForward = tf.env().getBool('WEBGL_CPU_FORWARD');
      tf.env().set('WEBGL_CPU_FORWARD', false);
      const source = tf.add(tf.randomNormal([4, 6, 7, 5], 0, 1, 'float32', 3), tf.scalar(0));
      tf.env().set('WEBGL_CPU_FORWARD', cpuForward);
      const filter = tf.randomNormal([1, 1, 5, 3], 0, 1, 'float32', 4) as tfc.Tensor4D;
      // A continuous slice shares the source's texture at an offset.
      const inputs = [source, tf.slice(source, [1], [2]), tf.slice(source, [2], [1])] as tfc.Tensor4D[];
      inputs.forEach(x => x.dataSync());
      const result = inputs.map(x => {
        lib.resetKernelStats();
        const ours = lib.im2colConv2d(x, filter, 1, 'valid');
        const workspace = lib.kernelStats().peakWorkspaceBytes;
        const expected = tf.conv2d(x, filter, 1, 'valid');
        const error = helpers.relativeError(ours.dataSync(), expected.dataSync());
        tf.dispose([ours, expected]);
        return {error, workspace};
      });
      tf.dispose([...inputs, filter]);
      return result;
    });
    got.forEach(c => expect(c.error).toBeLessThan(1e-4));
    expect(got[0].workspace).toBe(0);  // the packed source itself is the patch matrix
  }, 300000);

  it('1x1 convolutions of our own outputs and of reshaped textures read them directly', async () => {
    // An NHWC output with an even width is stored as [batch, outH * outW, outC]; a 1x1 conv
    // of it, or of any packed texture whose stored shape has the same texels (tfjs's
    // reshape-free reshapes), reads it as the patch matrix: no im2col workspace.
    const got = await page.run(({tf, lib, cases: helpers}) => {
      const cases: Array<{input: [number, number, number, number], stored?: number[]}> = [
        {input: [2, 6, 8, 4]},  // our conv output, stored flat
        {input: [1, 5, 7, 4]},  // our conv output, odd width: stored as NHWC
        {input: [1, 2, 12, 5], stored: [1, 4, 6, 5]},  // shares the texture
        {input: [1, 2, 3, 5], stored: [1, 6, 5]},  // tfjs copies (different texels)
      ];
      return cases.map(({input, stored}, i) => {
        const filter = tf.randomNormal([1, 1, input[3], 3], 0, 1, 'float32', 10 + i) as tfc.Tensor4D;
        let x: tfc.Tensor4D;
        let expectedX: tfc.Tensor4D;
        if (stored == null) {
          const source = tf.randomNormal([input[0], input[1], input[2], 2], 0, 1, 'float32', 20 + i);
          const first = tf.randomNormal([3, 3, 2, input[3]], 0, 1, 'float32', 30 + i) as tfc.Tensor4D;
          x = lib.im2colConv2d(source as tfc.Tensor4D, first, 1, 'same');
          expectedX = tf.conv2d(source as tfc.Tensor4D, first, 1, 'same');
          tf.dispose([source, first]);
        } else {
          // On the GPU (a small op of CPU values would run on the cpu), packed.
          const cpuForward = tf.env().getBool('WEBGL_CPU_FORWARD');
          tf.env().set('WEBGL_CPU_FORWARD', false);
          const source = tf.add(tf.randomNormal(stored, 0, 1, 'float32', 40 + i), tf.scalar(0));
          tf.env().set('WEBGL_CPU_FORWARD', cpuForward);
          x = tf.reshape(source, input) as tfc.Tensor4D;
          expectedX = tf.clone(x);
          source.dispose();
        }
        lib.resetKernelStats();
        const ours = lib.im2colConv2d(x, filter, 1, 'valid');
        const workspace = lib.kernelStats().peakWorkspaceBytes;
        const expected = tf.conv2d(expectedX, filter, 1, 'valid');
        const error = helpers.relativeError(ours.dataSync(), expected.dataSync());
        tf.dispose([ours, expected, x, expectedX, filter]);
        return {error, workspace};
      });
    });
    got.forEach(c => {
      expect(c.error).toBeLessThan(1e-4);
      expect(c.workspace).toBe(0);
    });
  }, 300000);

  it('the driver\'s epilogue (bias, relu, prelu, leakyrelu) matches tf.conv2d then the same ops', async () => {
    const errors = await page.run(({tf, lib, driver, geometry, cases: helpers}) => {
      // A throwaway fused kernel, the way a fused conv kernel calls the driver.
      const kernelName = 'TestIm2colEpilogue';
      tf.registerKernel({
        kernelName, backendName: 'webgl',
        kernelFunc: ({inputs, backend, attrs}) => {
          const {x, filter, bias, weights, alpha} = inputs as Record<string, tfc.TensorInfo>;
          const a = attrs as unknown as {dataFormat: 'NHWC' | 'NCHW', activation: string};
          const g = geometry.conv2dGeometry(x.shape, filter.shape,
              {strides: 1, pad: 'same', dataFormat: a.dataFormat, dilations: 1});
          return driver.runIm2colConv(backend, x, filter, g, {
            bias, activation: a.activation, preluActivationWeights: weights, leakyreluAlpha: alpha,
          }).out;
        },
      });
      const prelu = `vec4 aLessThanZero = vec4(lessThan(a, vec4(0.)));
        return (aLessThanZero * (b * a)) + ((vec4(1.0) - aLessThanZero) * a);`;
      const relu = 'return max(x, vec4(0.));';
      const budget = tf.env().getNumber(lib.WORKSPACE_BYTES_FLAG);
      const results: number[] = [];
      try {
        for (const dataFormat of ['NHWC', 'NCHW'] as const) {
          for (const chunked of [false, true]) {
            tf.env().set(lib.WORKSPACE_BYTES_FLAG, chunked ? 2048 : budget);
            tf.tidy(() => {
              const xNhwc = tf.randomNormal([2, 7, 6, 5], 0, 1, 'float32', 5) as tfc.Tensor4D;
              const x = dataFormat === 'NHWC' ? xNhwc : tf.transpose(xNhwc, [0, 3, 1, 2]);
              const filter = tf.randomNormal([3, 3, 5, 4], 0, 1, 'float32', 6) as tfc.Tensor4D;
              const channelShape = dataFormat === 'NHWC' ? [4] : [4, 1, 1];
              const bias = tf.reshape(tf.tensor1d([0.5, -1, 2, -0.25]), channelShape);
              const weights = tf.reshape(tf.tensor1d([0.1, 0.2, 0.3, 0.4]), channelShape);
              const alpha = tf.scalar(0.05);
              const conv = tf.add(tf.conv2d(xNhwc, filter, 1, 'same'), tf.tensor1d([0.5, -1, 2, -0.25]));
              const expected = [tf.relu(conv),
                                tf.prelu(conv, tf.tensor1d([0.1, 0.2, 0.3, 0.4])),
                                tf.leakyRelu(conv, 0.05)]
                  .map(e => dataFormat === 'NHWC' ? e : tf.transpose(e, [0, 3, 1, 2]));
              const actual = [
                tf.engine().runKernel(kernelName, {x, filter, bias}, {dataFormat, activation: relu}),
                tf.engine().runKernel(kernelName, {x, filter, bias, weights}, {dataFormat, activation: prelu}),
                tf.engine().runKernel(kernelName, {x, filter, bias, alpha}, {dataFormat, activation: prelu}),
              ] as tfc.Tensor[];
              actual.forEach((t, i) => results.push(helpers.relativeError(t.dataSync(), expected[i].dataSync())));
            });
          }
        }
      } finally {
        tf.env().set(lib.WORKSPACE_BYTES_FLAG, budget);
        tf.unregisterKernel(kernelName, 'webgl');
      }
      return results;
    });
    expect(errors.length).toBe(12);
    errors.forEach(e => expect(e).toBeLessThan(1e-4));
  }, 300000);

  it('registered under the name Conv2D on webgl, tf.conv2d and tf.conv1d keep their results', async () => {
    const rng = new Random(99);
    const cases = Array.from({length: 20}, () => randomConv2dCase(rng))
        .filter(c => !(Math.max(...c.strides) > 1 && Math.max(...c.dilations) > 1));
    const got = await page.run(({tf, lib, cases: helpers}, list: Conv2dCase[]) => {
      const conv1d = () => {
        const x = tf.randomNormal([2, 30, 4], 0, 1, 'float32', 1) as never;
        const f = tf.randomNormal([5, 4, 3], 0, 1, 'float32', 2) as never;
        return tf.conv1d(x, f, 2, 'same');
      };
      const runAll = () => [...list.map(c => helpers.referenceConv2d(tf, c)), conv1d()];
      const original = tf.getKernel('Conv2D', 'webgl')!;
      const ours = tf.getKernel(lib.Im2colConv2D, 'webgl')!;
      const expected = runAll();
      lib.resetKernelStats();
      const callsBefore = lib.kernelStats().calls['Im2colConv2D/webgl'] ?? 0;
      tf.unregisterKernel('Conv2D', 'webgl');
      tf.registerKernel({...ours, kernelName: 'Conv2D'});
      let actual: ReturnType<typeof runAll>;
      try {
        actual = runAll();
      } finally {
        tf.unregisterKernel('Conv2D', 'webgl');
        tf.registerKernel(original);
      }
      const errors = expected.map((e, i) => ({
        sameShape: JSON.stringify(e.shape) === JSON.stringify(actual[i].shape),
        error: helpers.relativeError(actual[i].dataSync(), e.dataSync()),
      }));
      const calls = lib.kernelStats().calls['Im2colConv2D/webgl'] - callsBefore;
      // And with tfjs's kernel back, tf.conv2d runs it, not ours.
      lib.resetKernelStats();
      tf.dispose(runAll());
      const callsAfterRestore = lib.kernelStats().calls['Im2colConv2D/webgl'] ?? 0;
      tf.dispose([...expected, ...actual]);
      return {errors, calls, count: expected.length, restored: tf.getKernel('Conv2D', 'webgl') === original,
              callsAfterRestore};
    }, cases);
    expect(got.calls).toBe(got.count);
    got.errors.forEach(e => {
      expect(e.sameShape).toBe(true);
      expect(e.error).toBeLessThan(1e-4);
    });
    expect(got.restored).toBe(true);
    expect(got.callsAfterRestore).toBe(0);
  }, 300000);

  it('Inf and NaN in the filter next to padding give tf.conv2d\'s webgl results', async () => {
    // tfjs's webgl conv2d multiplies the padding's zeros too (its im2col path), so 0 · Inf
    // is NaN in both; away from the padding, and in 1x1 convs, values agree.
    type Shape4 = [number, number, number, number];
    const got = await page.run(async ({tf, lib}) => {
      const results = [];
      for (const [xShape, filterShape, pad] of [
        [[1, 5, 6, 2], [3, 3, 2, 3], 'same'], [[2, 4, 4, 3], [2, 3, 3, 5], 'valid'],
        [[1, 3, 3, 4], [1, 1, 4, 6], 'same']] as [Shape4, Shape4, 'same' | 'valid'][]) {
        const x = tf.randomUniform(xShape, -1, 1, 'float32', 3) as tfc.Tensor4D;
        const values = tf.randomUniform(filterShape, -1, 1, 'float32', 4).dataSync() as Float32Array;
        values[0] = Infinity;
        values[Math.floor(values.length / 2)] = NaN;
        values[values.length - 1] = -Infinity;
        const filter = tf.tensor(values, filterShape) as tfc.Tensor4D;
        const expected = tf.conv2d(x, filter, 1, pad);
        const actual = lib.im2colConv2d(x, filter, 1, pad);
        const e = Array.from(expected.dataSync()), a = Array.from(actual.dataSync());
        results.push({
          nonFinite: e.filter(v => !Number.isFinite(v)).length,
          mismatches: e.filter((v, i) => Number.isFinite(v) || Number.isFinite(a[i]) ?
              !(Math.abs(v - a[i]) <= 1e-4 * Math.max(1, Math.abs(v))) : !Object.is(v, a[i])).length,
        });
        tf.dispose([x, filter, expected, actual]);
      }
      return results;
    });
    for (const result of got) {
      expect(result.nonFinite).toBeGreaterThan(0);
      expect(result.mismatches).toBe(0);
    }
  }, 300000);
});

describe('half-float textures (WEBGL_FORCE_F16_TEXTURES)', () => {
  it('runs and agrees with tf.conv2d on cpu within half-float tolerance', async () => {
    const page = await TfjsPage.open(HELPERS);
    try {
      await page.run(async ({tf}) => {
        tf.env().set('WEBGL_FORCE_F16_TEXTURES', true);
        if (!(await tf.setBackend('webgl'))) throw new Error('webgl failed to start');
      });
      const rng = new Random(16);
      const cases = [...Array.from({length: 14}, () => randomConv2dCase(rng)),
                     ...Array.from({length: 6}, () => randomConv1dCase(rng))];
      const got = await page.run(async ({tf, lib, cases: helpers}, list) => {
        const renderFloat32 = tf.env().getBool('WEBGL_RENDER_FLOAT32_ENABLED') &&
            !tf.env().getBool('WEBGL_FORCE_F16_TEXTURES');
        const outputs = list.map(c => {
          const x = tf.tensor(c.x, c.xShape);
          const filter = tf.tensor(c.filter, c.filterShape);
          const out: tfc.Tensor = c.kind === 'conv2d' ?
              lib.im2colConv2d(x as never, filter as never, c.strides, c.pad, c.dataFormat, c.dilations, c.dimRoundingMode) :
              lib.im2colConv1d(x as never, filter as never, c.stride, c.pad, c.dataFormat, c.dilation);
          const values = out.dataSync();
          tf.dispose([x, filter, out]);
          return values;
        });
        await tf.setBackend('cpu');
        const errors = list.map((c, i) => {
          const reference = c.kind === 'conv2d' ? helpers.referenceConv2d(tf, c) : helpers.referenceConv1d(tf, c);
          const error = helpers.relativeError(outputs[i], reference.dataSync());
          reference.dispose();
          return error;
        });
        return {renderFloat32, errors};
      }, cases);
      console.log(`half-float page: worst relative error ${Math.max(...got.errors).toExponential(2)}`);
      expect(got.renderFloat32).toBe(false);
      got.errors.forEach(e => expect(e).toBeLessThan(2e-2));
    } finally {
      await page.close();
    }
  }, 600000);
});

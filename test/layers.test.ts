/**
 * Keras's grouped Conv2D / Conv1D layers (`tfjs-im2col/layers`) on the cpu backend: a Keras
 * model.json with `groups` written here in the tfjs layers format, which plain tfjs-layers
 * cannot load and `registerIm2colLayers()` loads and runs (against per-group tf.conv2d /
 * tf.conv1d); training and gradients; config and save / load round trips; bad `groups`.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as tfl from '@tensorflow/tfjs-layers';
import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'fs';
import {tmpdir} from 'os';
import * as path from 'path';
import './helpers/tfjs_gradients';
import {GroupedConv1D, GroupedConv2D, groupedConv1d, groupedConv2d, kernelStats, registerIm2colLayers, resetKernelStats} from '../src/entries/layers';
import {relativeError} from './helpers/conv_cases';
import {Random} from './helpers/random';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

// ---------------------------------------------------------------------------------------------
// The reference: one tf.conv2d / tf.conv1d per group on its slice of channels, concatenated.

interface Conv2dRef {
  strides: [number, number];
  pad: 'valid' | 'same';
  dilations: [number, number];
  channelsFirst?: boolean;
}

function groupedConv2dRef(x: tf.Tensor4D, kernel: tf.Tensor4D, bias: tf.Tensor | null,
                          groups: number, o: Conv2dRef): tf.Tensor4D {
  return tf.tidy(() => {
    const nhwc = o.channelsFirst ? tf.transpose(x, [0, 2, 3, 1]) : x;
    const inG = kernel.shape[2], outG = kernel.shape[3] / groups;
    const parts = [];
    for (let g = 0; g < groups; g++) {
      parts.push(tf.conv2d(tf.slice(nhwc, [0, 0, 0, g * inG], [-1, -1, -1, inG]),
                           tf.slice(kernel, [0, 0, 0, g * outG], [-1, -1, -1, outG]),
                           o.strides, o.pad, 'NHWC', o.dilations));
    }
    let y: tf.Tensor4D = tf.concat(parts, 3);
    if (bias) y = tf.add(y, bias);
    return o.channelsFirst ? tf.transpose(y, [0, 3, 1, 2]) : y;
  });
}

interface Conv1dRef {
  stride: number;
  pad: 'valid' | 'same' | 'causal';
  dilation: number;
  channelsFirst?: boolean;
}

function groupedConv1dRef(x: tf.Tensor3D, kernel: tf.Tensor3D, bias: tf.Tensor | null,
                          groups: number, o: Conv1dRef): tf.Tensor3D {
  return tf.tidy(() => {
    let nwc = o.channelsFirst ? tf.transpose(x, [0, 2, 1]) : x;
    if (o.pad === 'causal') nwc = tf.pad(nwc, [[0, 0], [o.dilation * (kernel.shape[0] - 1), 0], [0, 0]]);
    const inG = kernel.shape[1], outG = kernel.shape[2] / groups;
    const parts = [];
    for (let g = 0; g < groups; g++) {
      parts.push(tf.conv1d(tf.slice(nwc, [0, 0, g * inG], [-1, -1, inG]),
                           tf.slice(kernel, [0, 0, g * outG], [-1, -1, outG]), o.stride,
                           o.pad === 'causal' ? 'valid' : o.pad, 'NWC', o.dilation));
    }
    let y: tf.Tensor3D = tf.concat(parts, 2);
    if (bias) y = tf.add(y, bias);
    return o.channelsFirst ? tf.transpose(y, [0, 2, 1]) : y;
  });
}

const seeded = (seed: number) => tfl.initializers.glorotUniform({seed});
const biasInit = (seed: number) => tfl.initializers.randomUniform({minval: -0.5, maxval: 0.5, seed});

function randomTensor(shape: number[], seed: number): tf.Tensor {
  return tf.tensor(new Random(seed).values(shape.reduce((a, b) => a * b, 1)), shape);
}

// ---------------------------------------------------------------------------------------------
// A Keras model with grouped layers, as tensorflowjs_converter writes it (Keras 2.x, HDF5
// topology): input [7, 7, 4] → Conv2D(8, 3, strides 2, 'same', groups 2, relu) → [4, 4, 8] →
// Reshape [16, 8] → Conv1D(8, 3, 'causal', dilation 2, groups 4, tanh) → [16, 8].

const kerasInitializer = (className: string) =>
    ({module: 'keras.initializers', class_name: className, config: className === 'Zeros' ? {} : {seed: null},
      registered_name: null});

function kerasConv(className: 'Conv2D' | 'Conv1D', config: Record<string, unknown>) {
  return {
    module: 'keras.layers', class_name: className, registered_name: null,
    config: {
      trainable: true, dtype: 'float32', data_format: 'channels_last', use_bias: true,
      kernel_initializer: kerasInitializer('GlorotUniform'), bias_initializer: kerasInitializer('Zeros'),
      kernel_regularizer: null, bias_regularizer: null, activity_regularizer: null,
      kernel_constraint: null, bias_constraint: null, ...config
    }
  };
}

function kerasModelJson(conv2dGroups = 2) {
  const modelTopology = {
    keras_version: '2.15.0', backend: 'tensorflow',
    model_config: {
      class_name: 'Sequential',
      config: {
        name: 'grouped_net',
        layers: [
          {class_name: 'InputLayer', config: {batch_input_shape: [null, 7, 7, 4], dtype: 'float32',
                                              sparse: false, ragged: false, name: 'input_1'}},
          kerasConv('Conv2D', {name: 'conv2d', filters: 8, kernel_size: [3, 3], strides: [2, 2],
                               padding: 'same', dilation_rate: [1, 1], groups: conv2dGroups,
                               activation: 'relu'}),
          {module: 'keras.layers', class_name: 'Reshape', registered_name: null,
           config: {name: 'reshape', trainable: true, dtype: 'float32', target_shape: [16, 8]}},
          kerasConv('Conv1D', {name: 'conv1d', filters: 8, kernel_size: [3], strides: [1],
                               padding: 'causal', dilation_rate: [2], groups: 4, activation: 'tanh'}),
        ]
      }
    }
  };
  const weights = [
    {name: 'conv2d/kernel', shape: [3, 3, Math.floor(4 / conv2dGroups), 8], dtype: 'float32'},
    {name: 'conv2d/bias', shape: [8], dtype: 'float32'},
    {name: 'conv1d/kernel', shape: [3, 2, 8], dtype: 'float32'},
    {name: 'conv1d/bias', shape: [8], dtype: 'float32'},
  ];
  return {
    format: 'layers-model', generatedBy: 'keras v2.15.0', convertedBy: 'TensorFlow.js Converter v4.22.0',
    modelTopology, weightsManifest: [{paths: ['group1-shard1of1.bin'], weights}]
  };
}

const weightValues = [randomTensor([3, 3, 2, 8], 11), randomTensor([8], 12), randomTensor([3, 2, 8], 13),
                      randomTensor([8], 14)];

/** Writes model.json and its weights file into a fresh directory. */
function writeKerasModel(conv2dGroups = 2): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'grouped-keras-'));
  writeFileSync(path.join(dir, 'model.json'), JSON.stringify(kerasModelJson(conv2dGroups)));
  const bytes = Buffer.concat(weightValues.map(t => Buffer.from((t.dataSync() as Float32Array).buffer)));
  writeFileSync(path.join(dir, 'group1-shard1of1.bin'), bytes);
  return dir;
}

/**
 * tf.io.http's loader (model.json, then its weight shards by relative path) over the files of
 * `dir`. The responses are made here, not with Node's Response: under jest that one's json()
 * builds arrays of another realm, which tfjs-layers' `instanceof Array` does not recognize.
 */
function fromDirectory(dir: string): tf.io.IOHandler {
  const fetchFunc = async (url: RequestInfo | URL) => {
    const bytes = readFileSync(path.join(dir, path.basename(new URL(String(url)).pathname)));
    return {ok: true, status: 200, url, json: async () => JSON.parse(bytes.toString('utf8')),
            arrayBuffer: async () => new Uint8Array(bytes).buffer} as unknown as Response;
  };
  return tf.io.http('http://models.test/grouped_net/model.json', {fetchFunc});
}

function kerasReference(x: tf.Tensor4D): tf.Tensor {
  return tf.tidy(() => {
    const [k2, b2, k1, b1] = weightValues;
    const y2 = tf.relu(groupedConv2dRef(x, k2 as tf.Tensor4D, b2, 2,
                                        {strides: [2, 2], pad: 'same', dilations: [1, 1]}));
    return tf.tanh(groupedConv1dRef(tf.reshape(y2, [x.shape[0], 16, 8]), k1 as tf.Tensor3D, b1, 4,
                                    {stride: 1, pad: 'causal', dilation: 2}));
  });
}

describe('a Keras model with grouped Conv2D and Conv1D layers', () => {
  let dir: string;
  beforeAll(() => {
    dir = writeKerasModel();
  });
  afterAll(() => rmSync(dir, {recursive: true, force: true}));

  it('does not load with plain tfjs-layers (the kernel shapes do not match)', async () => {
    await expect(tfl.loadLayersModel(fromDirectory(dir)))
        .rejects.toThrow('Shape mismatch: [3,3,4,8] vs. [3,3,2,8]');
  });

  it('loads after registerIm2colLayers() and predicts what per-group tf.conv2d / tf.conv1d give', async () => {
    const restore = registerIm2colLayers();
    let model: tfl.LayersModel;
    try {
      model = await tfl.loadLayersModel(fromDirectory(dir));
    } finally {
      restore();
    }
    const [conv2d, conv1d] = [model.getLayer('conv2d'), model.getLayer('conv1d')];
    expect(conv2d).toBeInstanceOf(GroupedConv2D);
    expect(conv1d).toBeInstanceOf(GroupedConv1D);
    expect([conv2d.getConfig().groups, conv1d.getConfig().groups]).toEqual([2, 4]);
    expect(model.outputs[0].shape).toEqual([null, 16, 8]);

    const x = randomTensor([3, 7, 7, 4], 21) as tf.Tensor4D;
    resetKernelStats();
    const actual = model.predict(x) as tf.Tensor;
    // The grouped kernels ran: the fused 2D one (bias and relu in its epilogue) and the 1D one.
    expect(kernelStats().calls).toEqual(expect.objectContaining(
        {'FusedIm2colConv2D/cpu': 1, 'Im2colConv1D/cpu': 1}));
    const expected = kerasReference(x);
    expect(actual.shape).toEqual([3, 16, 8]);
    expect(relativeError(actual.dataSync(), expected.dataSync())).toBeLessThan(1e-5);
    tf.dispose([x, actual, expected]);
    model.dispose();

    // restore() put tfjs-layers' classes back.
    await expect(tfl.loadLayersModel(fromDirectory(dir))).rejects.toThrow('Shape mismatch');
  });

  it('with groups 1 the registered layers are tfjs-layers\' own, exactly', () => {
    const args = {inputShape: [6, 6, 4], filters: 6, kernelSize: 3, padding: 'same' as const,
                  activation: 'relu' as const, kernelInitializer: seeded(3), biasInitializer: biasInit(4)};
    const ours = tfl.sequential({layers: [groupedConv2d(args), tfl.layers.reshape({targetShape: [36, 6]}),
                                          groupedConv1d({filters: 3, kernelSize: 2, kernelInitializer: seeded(5)})]});
    const theirs = tfl.sequential({layers: [tfl.layers.conv2d(args), tfl.layers.reshape({targetShape: [36, 6]}),
                                            tfl.layers.conv1d({filters: 3, kernelSize: 2, kernelInitializer: seeded(5)})]});
    const x = randomTensor([2, 6, 6, 4], 6);
    const [a, b] = [ours.predict(x) as tf.Tensor, theirs.predict(x) as tf.Tensor];
    expect(Array.from(a.dataSync())).toEqual(Array.from(b.dataSync()));
    const {groups, ...rest} = ours.layers[0].getConfig();
    expect(groups).toBe(1);
    const {name: _ours, ...restOurs} = rest;
    const {name: _theirs, ...restTheirs} = theirs.layers[0].getConfig();
    expect(restOurs).toEqual(restTheirs);
    tf.dispose([x, a, b]);
    ours.dispose();
    theirs.dispose();
  });
});

// ---------------------------------------------------------------------------------------------

describe('grouped layers built in code', () => {
  it.each([
    ['2D NHWC, strides 2, valid, no bias', {dataFormat: 'channelsLast', strides: 2, padding: 'valid', useBias: false}],
    ['2D NCHW, dilation 2, same, bias', {dataFormat: 'channelsFirst', dilationRate: 2, padding: 'same'}],
  ] as const)('Conv2D %s matches per-group tf.conv2d', (_, o) => {
    const channelsFirst = o.dataFormat === 'channelsFirst';
    const layer = groupedConv2d({filters: 6, kernelSize: [3, 2], groups: 3, kernelInitializer: seeded(1),
                                 biasInitializer: biasInit(2), activation: 'sigmoid', ...o});
    const x = randomTensor(channelsFirst ? [2, 6, 9, 8] : [2, 9, 8, 6], 3) as tf.Tensor4D;
    const y = layer.apply(x) as tf.Tensor;
    const [kernel, bias] = layer.getWeights();
    expect(kernel.shape).toEqual([3, 2, 2, 6]);
    const d = 'dilationRate' in o ? o.dilationRate : 1, s = 'strides' in o ? o.strides : 1;
    const expected = tf.sigmoid(groupedConv2dRef(x, kernel as tf.Tensor4D, bias ?? null, 3,
        {strides: [s, s], pad: o.padding, dilations: [d, d], channelsFirst}));
    expect(y.shape).toEqual(expected.shape);
    expect(layer.computeOutputShape([null, ...x.shape.slice(1)])).toEqual([null, ...y.shape.slice(1)]);
    expect(relativeError(y.dataSync(), expected.dataSync())).toBeLessThan(1e-5);
    tf.dispose([x, y, expected]);
    layer.dispose();
  });

  it.each([
    ['NWC, stride 2, same', {groups: 2, strides: 2, padding: 'same'}],
    ['NCW, causal, dilation 3', {groups: 2, dataFormat: 'channelsFirst', padding: 'causal', dilationRate: 3}],
    // tfjs-layers' own Conv1D refuses 'causal' when called; this one runs it, grouped or not.
    ['groups 1, causal, dilation 2', {groups: 1, padding: 'causal', dilationRate: 2}],
  ] as const)('Conv1D %s matches per-group tf.conv1d', (_, o) => {
    const channelsFirst = 'dataFormat' in o;
    const layer = groupedConv1d({filters: 4, kernelSize: 3, kernelInitializer: seeded(7),
                                 biasInitializer: biasInit(8), activation: 'tanh', ...o});
    const x = randomTensor(channelsFirst ? [2, 6, 11] : [2, 11, 6], 9) as tf.Tensor3D;
    const y = layer.apply(x) as tf.Tensor;
    const [kernel, bias] = layer.getWeights();
    expect(kernel.shape).toEqual([3, 6 / o.groups, 4]);
    const expected = tf.tanh(groupedConv1dRef(x, kernel as tf.Tensor3D, bias, o.groups,
        {stride: 'strides' in o ? o.strides : 1, pad: o.padding,
         dilation: 'dilationRate' in o ? o.dilationRate : 1, channelsFirst}));
    expect(y.shape).toEqual(expected.shape);
    expect(layer.computeOutputShape([null, ...x.shape.slice(1)])).toEqual([null, ...y.shape.slice(1)]);
    expect(relativeError(y.dataSync(), expected.dataSync())).toBeLessThan(1e-5);
    tf.dispose([x, y, expected]);
    layer.dispose();
  });

  function groupedNet(): tfl.Sequential {
    const model = tfl.sequential({layers: [
      groupedConv2d({inputShape: [6, 6, 4], filters: 6, kernelSize: 3, groups: 2, padding: 'same',
                     activation: 'relu', kernelInitializer: seeded(1), biasInitializer: biasInit(2)}),
      tfl.layers.reshape({targetShape: [36, 6]}),
      groupedConv1d({filters: 4, kernelSize: 3, groups: 2, padding: 'causal', activation: 'tanh',
                     kernelInitializer: seeded(3)}),
      tfl.layers.flatten(),
      tfl.layers.dense({units: 2, kernelInitializer: seeded(4)}),
    ]});
    model.compile({optimizer: tf.train.sgd(0.05), loss: 'meanSquaredError'});
    return model;
  }

  it('a grouped model trains: the loss falls and the grouped kernels change', async () => {
    const model = groupedNet();
    const before = model.getWeights().map(w => w.dataSync().slice());
    const xs = randomTensor([16, 6, 6, 4], 31), ys = randomTensor([16, 2], 32);
    const history = await model.fit(xs, ys, {epochs: 4, batchSize: 8, shuffle: false, verbose: 0});
    const losses = history.history.loss as number[];
    expect(losses.every(Number.isFinite)).toBe(true);
    expect(losses[losses.length - 1]).toBeLessThan(losses[0]);
    const after = model.getWeights();
    expect(after[0].shape).toEqual([3, 3, 2, 6]);
    expect(after[2].shape).toEqual([3, 3, 4]);
    for (const i of [0, 1, 2, 3]) {
      expect(relativeError(after[i].dataSync(), before[i])).toBeGreaterThan(0);
    }
    tf.dispose([xs, ys]);
    model.dispose();
  });

  it('kernel and bias gradients equal per-group tf.conv2d / tf.conv1d gradients', () => {
    const conv2 = groupedConv2d({filters: 6, kernelSize: 3, groups: 2, strides: 2, padding: 'same',
                                 activation: 'relu', kernelInitializer: seeded(5), biasInitializer: biasInit(6)});
    const conv1 = groupedConv1d({filters: 4, kernelSize: 3, groups: 4, padding: 'causal', strides: 2,
                                 activation: 'tanh', kernelInitializer: seeded(7), biasInitializer: biasInit(8)});
    const x2 = randomTensor([2, 7, 7, 4], 9) as tf.Tensor4D, x1 = randomTensor([2, 10, 8], 10) as tf.Tensor3D;
    conv2.build(x2.shape);
    conv1.build(x1.shape);
    const cases: [tfl.layers.Layer, tf.Tensor, (k: tf.Tensor, b: tf.Tensor) => tf.Tensor][] = [
      [conv2, x2, (k, b) => tf.relu(groupedConv2dRef(x2, k as tf.Tensor4D, b, 2,
                                                     {strides: [2, 2], pad: 'same', dilations: [1, 1]}))],
      [conv1, x1, (k, b) => tf.tanh(groupedConv1dRef(x1, k as tf.Tensor3D, b, 4,
                                                     {stride: 2, pad: 'causal', dilation: 1}))],
    ];
    for (const [layer, x, reference] of cases) {
      const [kernel, bias] = layer.trainableWeights.map(w => w.read() as tf.Variable);
      const dy = randomTensor(reference(kernel, bias).shape, 11);
      const {grads} = tf.variableGrads(() => tf.sum(tf.mul(layer.apply(x) as tf.Tensor, dy)) as tf.Scalar,
                                       [kernel, bias]);
      const [dKernel, dBias] = tf.grads((k: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(reference(k, b), dy)))(
          [kernel, bias]);
      expect(grads[kernel.name].shape).toEqual(kernel.shape);
      expect(relativeError(grads[kernel.name].dataSync(), dKernel.dataSync())).toBeLessThan(1e-5);
      expect(relativeError(grads[bias.name].dataSync(), dBias.dataSync())).toBeLessThan(1e-5);
      expect(tf.max(tf.abs(dKernel)).dataSync()[0]).toBeGreaterThan(0);
    }
  });

  it('getConfig / fromConfig keep groups; save and load give identical predictions', async () => {
    const layer = groupedConv2d({filters: 6, kernelSize: 3, groups: 3, padding: 'same'});
    const config = layer.getConfig();
    expect(config.groups).toBe(3);
    // (fromConfig adds customObjects to the config's initializers: compare with a fresh one.)
    const clone = GroupedConv2D.fromConfig(GroupedConv2D, config) as GroupedConv2D;
    expect([clone.groups, clone.getConfig()]).toEqual([3, layer.getConfig()]);
    const clone1 = GroupedConv1D.fromConfig(GroupedConv1D,
        groupedConv1d({filters: 4, kernelSize: 3, groups: 2, dataFormat: 'channelsFirst'}).getConfig()) as GroupedConv1D;
    expect([clone1.groups, clone1.getConfig().dataFormat]).toEqual([2, 'channelsFirst']);

    const model = groupedNet();
    expect(model.toJSON(null, false)).toMatchObject({config: {layers: [
      {class_name: 'Conv2D', config: {groups: 2}}, {}, {class_name: 'Conv1D', config: {groups: 2}}, {}, {}]}});
    let artifacts: tf.io.ModelArtifacts | undefined;
    await model.save(tf.io.withSaveHandler(async a => {
      artifacts = a;
      return {modelArtifactsInfo: {dateSaved: new Date(), modelTopologyType: 'JSON'}};
    }));
    const restore = registerIm2colLayers();
    let loaded: tfl.LayersModel;
    try {
      loaded = await tfl.loadLayersModel(tf.io.fromMemory(artifacts!));
    } finally {
      restore();
    }
    expect(loaded.layers[0]).toBeInstanceOf(GroupedConv2D);
    const x = randomTensor([3, 6, 6, 4], 41);
    const [a, b] = [model.predict(x) as tf.Tensor, loaded.predict(x) as tf.Tensor];
    expect(Array.from(b.dataSync())).toEqual(Array.from(a.dataSync()));
    tf.dispose([x, a, b]);
    model.dispose();
    loaded.dispose();
  });
});

describe('bad groups', () => {
  it.each([0, -2, 1.5, NaN, '2'])('groups = %p is refused by name', groups => {
    expect(() => groupedConv2d({filters: 4, kernelSize: 3, groups: groups as number}))
        .toThrow(`Conv2D: 'groups' must be a positive integer, but got ${typeof groups === 'string' ? '"2"' : groups}.`);
    expect(() => groupedConv1d({filters: 4, kernelSize: 3, groups: groups as number}))
        .toThrow("Conv1D: 'groups' must be a positive integer");
  });

  it('filters not divisible by groups', () => {
    expect(() => groupedConv2d({filters: 6, kernelSize: 3, groups: 4}))
        .toThrow("Conv2D: the number of filters must be divisible by 'groups', but got filters = 6 and groups = 4.");
  });

  it('input channels not divisible by groups', () => {
    expect(() => tfl.sequential({layers: [groupedConv2d({inputShape: [5, 5, 6], filters: 8, kernelSize: 3, groups: 4})]}))
        .toThrow("Conv2D: the input's channels must be divisible by 'groups', but got 6 input channels " +
                 '(input shape [null,5,5,6]) and groups = 4.');
    expect(() => groupedConv1d({filters: 4, kernelSize: 3, groups: 2}).apply(tf.zeros([1, 8, 3])))
        .toThrow("Conv1D: the input's channels must be divisible by 'groups', but got 3 input channels");
  });

  it('a Keras model whose groups do not divide its channels fails to load, naming groups', async () => {
    const dir = writeKerasModel(3);
    const restore = registerIm2colLayers();
    try {
      await expect(tfl.loadLayersModel(fromDirectory(dir)))
          .rejects.toThrow("Conv2D: the number of filters must be divisible by 'groups', but got filters = 8 and groups = 3.");
    } finally {
      restore();
      rmSync(dir, {recursive: true, force: true});
    }
  });
});

/**
 * `node scripts/run-ts.js bench/webgl_conv3d.ts`: the webgl driver's 3D convolution (called
 * directly: the kernels come later) against tf.conv3d, and its transposed convolution against
 * tf.conv3dTranspose, in headless Chromium on tfjs's webgl backend. Each sample is one call
 * ending in an awaited read of its output, so the GPU work is finished; the median of the
 * samples, after a warm-up call (compiles, uploads, texture pool). Env: BENCH_RUNS (samples,
 * default 5), BENCH_WORKSPACE (IM2COL_WORKSPACE_BYTES, default the flag's 64 MiB),
 * BENCH_TRANSPOSE=0 (forward only).
 */
import {PageGlobals, TfjsPage} from '../test/browser/tfjs_page';

interface Layer3d {
  name: string;
  input: [number, number, number, number, number];
  filter: [number, number, number, number, number];
}

const LAYERS: Layer3d[] = [
  {name: '16x56x56x64', input: [1, 16, 56, 56, 64], filter: [3, 3, 3, 64, 64]},
  {name: '32x64x64x16', input: [1, 32, 64, 64, 16], filter: [3, 3, 3, 16, 32]},
];

interface Timings {
  ours: number[];
  tfjs: number[];
  maxAbsDiff: number;
  workspaceBytes: number;
}

/** Page side: times our driver and tfjs on one layer, forward or transposed. */
async function benchLayer({tf, driver3d, geometry}: PageGlobals,
                          arg: {layer: Layer3d, runs: number, transpose: boolean,
                                workspace: number | null}): Promise<Timings> {
  const {layer, runs, transpose} = arg;
  const saved = tf.env().get('IM2COL_WORKSPACE_BYTES');
  if (arg.workspace != null) tf.env().set('IM2COL_WORKSPACE_BYTES', arg.workspace);
  const webgl = tf.backend() as any;
  const g = geometry.conv3dGeometry(layer.input, layer.filter,
      {strides: 1, pad: 'same', dilations: 1, dataFormat: 'NDHWC'});
  const x = tf.randomUniform(layer.input, -1, 1, 'float32', 1);
  const filter = tf.randomUniform(layer.filter, -1, 1, 'float32', 2);
  const dy = tf.randomUniform(g.outShape, -1, 1, 'float32', 3);
  const info = (t: any) => ({dataId: t.dataId, shape: t.shape, dtype: t.dtype});
  let workspaceBytes = 0;
  const ours = () => {
    const result = transpose ?
        driver3d.webglDriver.conv3dTranspose(webgl, info(dy), info(filter), g) :
        driver3d.webglDriver.conv3d(webgl, info(x), info(filter), g);
    workspaceBytes = result.workspaceBytes;
    return tf.engine().makeTensorFromTensorInfo(result.out);
  };
  const reference = () => transpose ?
      tf.conv3dTranspose(dy as any, filter as any, layer.input, 1, 'same') :
      tf.conv3d(x as any, filter as any, 1, 'same');
  const time = async (op: () => any) => {
    const start = performance.now();
    const out = op();
    await out.data();
    out.dispose();
    return performance.now() - start;
  };
  try {
    const a = ours();
    const b = reference();
    const maxAbsDiff = (await tf.max(tf.abs(tf.sub(a, b))).data())[0];
    tf.dispose([a, b]);
    const timings = {ours: [] as number[], tfjs: [] as number[]};
    for (let i = 0; i < runs; i++) {
      // Alternate, so both see the same machine load.
      timings.ours.push(await time(ours));
      timings.tfjs.push(await time(reference));
    }
    return {...timings, maxAbsDiff, workspaceBytes};
  } finally {
    tf.env().set('IM2COL_WORKSPACE_BYTES', saved);
    tf.dispose([x, filter, dy]);
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((p, q) => p - q);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

async function main(): Promise<void> {
  const runs = Number(process.env.BENCH_RUNS ?? 5);
  const workspace = process.env.BENCH_WORKSPACE ? Number(process.env.BENCH_WORKSPACE) : null;
  const transposes = process.env.BENCH_TRANSPOSE === '0' ? [false] : [false, true];
  const page = await TfjsPage.open({driver3d: './src/webgl/driver.ts',
                                    geometry: './src/geometry/index.ts'});
  try {
    await page.useBackend('webgl');
    const info = await page.webglInfo();
    console.log(`webgl: WEBGL_VERSION ${info.version}, max texture ${info.maxTextureSize}, ` +
                `float32 render ${info.renderFloat32}, renderer ${info.renderer}; ${runs} runs`);
    for (const transpose of transposes) {
      for (const layer of LAYERS) {
        const r = await page.run(benchLayer, {layer, runs, transpose, workspace});
        const oursMs = median(r.ours);
        const tfjsMs = median(r.tfjs);
        const [d, h, w, inC, outC] = [...layer.input.slice(1), layer.filter[4]];
        const gflop = 2 * d * h * w * 27 * inC * outC / 1e9;
        console.log(`${transpose ? 'transposed' : 'forward'} ${layer.name} filter ` +
                    `${layer.filter.join('x')}: ours ${oursMs.toFixed(0)} ms ` +
                    `(${(gflop / oursMs * 1e3).toFixed(1)} GFLOP/s, patch workspace ` +
                    `${(r.workspaceBytes / 2 ** 20).toFixed(1)} MiB), tfjs ` +
                    `${tfjsMs.toFixed(0)} ms; tfjs / ours ${(tfjsMs / oursMs).toFixed(2)}x; ` +
                    `max |diff| ${r.maxAbsDiff.toExponential(1)}; samples ours ` +
                    `[${r.ours.map(t => t.toFixed(0)).join(', ')}] tfjs ` +
                    `[${r.tfjs.map(t => t.toFixed(0)).join(', ')}]`);
      }
    }
  } finally {
    await page.close();
  }
}

main().catch(error => {
  console.error(error);
  process.exit(1);
});

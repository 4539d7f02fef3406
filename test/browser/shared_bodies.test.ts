/**
 * The shared test bodies (test/shared/) on every browser target of test/shared/targets.ts
 * (tfjs's cpu, wasm and webgl backends in headless Chromium; webgl on SwiftShader, wasm on
 * binaries the page's route serves from node_modules), bundled into one page, with the
 * assertions of test/shared/suites.ts. The Node targets run in test/shared_bodies.test.ts.
 */
import {bodies} from '../shared';
import {Call, sharedSuites} from '../shared/suites';
import {targetsIn} from '../shared/targets';
import {TfjsPage} from './tfjs_page';

const targets = targetsIn('browser');
/** Backend modules beyond cpu and webgl, as page globals (importing them registers them). */
const backendModules = Object.fromEntries(
    [...new Set(targets.flatMap(t => t.modules ?? []))].map((m, i) => [`backend${i}`, m]));

let page: TfjsPage;
/** Half-float render targets round every pass to 11 bits of mantissa. */
let halfFloat = false;

beforeAll(async () => {
  page = await TfjsPage.open({
    shared: './test/shared/index.ts',
    tfjsGradients: '@tensorflow/tfjs-core/dist/register_all_gradients',
    ...backendModules,
  });
  await page.useBackend('webgl');
  const info = await page.webglInfo();
  halfFloat = !info.renderFloat32;
  console.log(`page: WEBGL_VERSION ${info.version}, max texture size ${info.maxTextureSize}, ` +
              `float32 render targets ${info.renderFloat32}, renderer ${info.renderer}`);
}, 180000);

afterAll(async () => {
  await page?.close();
});

describe.each(targets)('$name (browser)', target => {
  let saved: Record<string, unknown> = {};
  beforeAll(async () => {
    saved = await page.run(async ({tf}, {backend, flags}) => {
      // Bodies switch to cpu for references: both backends initialised.
      if (!(await tf.setBackend('cpu')) || !(await tf.setBackend(backend))) {
        throw new Error(`backend ${backend} failed to start`);
      }
      await tf.ready();
      if (tf.getBackend() !== backend) throw new Error(`on ${tf.getBackend()}, not ${backend}`);
      const previous: Record<string, unknown> = {};
      for (const [flag, value] of Object.entries(flags)) {
        previous[flag] = tf.env().get(flag);
        tf.env().set(flag, value);
      }
      return previous;
    }, {backend: target.backend, flags: target.flags});
    // Not threaded: SharedArrayBuffer needs cross-origin isolation, which the page lacks.
    if (target.backend === 'wasm') {
      expect(page.wasmBinaries).toEqual(['tfjs-backend-wasm-simd.wasm']);
    }
  }, 60000);
  afterAll(async () => {
    await page?.run(({tf}, flags) => {
      for (const [flag, value] of Object.entries(flags)) tf.env().set(flag, value as never);
    }, saved);
  });

  const call = ((name: keyof typeof bodies, arg?: unknown) =>
      page.run(({tf, lib, shared}, a: {name: string, arg: unknown}) =>
          shared.bodies[a.name](tf, lib, a.arg), {name, arg})) as Call;
  const tolerance = () => halfFloat && target.backend === 'webgl' ?
      {forward: 2e-2, gradient: 2e-1} : target.tolerance;
  sharedSuites(target, {call, tolerance, parityBatch: 50, timeout: 900000});
});

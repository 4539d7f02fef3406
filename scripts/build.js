// Builds the package: ESM and CommonJS bundles of each entry (tfjs packages stay external
// peers), plus .d.ts types from tsc. Entries: `tfjs-im2col` (cpu, wasm and webgl kernels),
// `tfjs-im2col/cpu`, `tfjs-im2col/webgl`, `tfjs-im2col/wasm` (one backend's kernels each),
// `tfjs-im2col/layers` (the main entry plus the grouped Keras layers; the only one that
// imports @tensorflow/tfjs-layers).
// Module state lives on a global (src/state.ts), so loading several entries or both formats
// registers everything once. Usage: node scripts/build.js
const {execFileSync} = require('child_process');
const esbuild = require('esbuild');
const {rmSync} = require('fs');
const path = require('path');

const root = path.join(__dirname, '..');
execFileSync(process.execPath, [path.join(__dirname, 'build_wasm.js')], {stdio: 'inherit'});
rmSync(path.join(root, 'dist'), {recursive: true, force: true});

const entries = {index: 'src/index.ts', cpu: 'src/entries/cpu.ts', webgl: 'src/entries/webgl.ts',
                 wasm: 'src/entries/wasm.ts', layers: 'src/entries/layers.ts'};
const common = {
  bundle: true,
  platform: 'neutral',
  target: 'es2020',
  external: ['@tensorflow/*'],
  sourcemap: true,
  logLevel: 'warning',
};
for (const [name, entry] of Object.entries(entries)) {
  for (const [format, extension] of [['esm', 'mjs'], ['cjs', 'cjs']]) {
    esbuild.buildSync({...common, entryPoints: [path.join(root, entry)], format,
                       outfile: path.join(root, 'dist', `${name}.${extension}`)});
  }
}
execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', 'tsconfig.build.json'],
             {cwd: root, stdio: 'inherit'});

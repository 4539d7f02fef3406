// Builds the package: one ESM and one CommonJS bundle (tfjs packages stay external peers),
// plus .d.ts types from tsc. Usage: node scripts/build.js
const {execFileSync} = require('child_process');
const esbuild = require('esbuild');
const {rmSync} = require('fs');
const path = require('path');

const root = path.join(__dirname, '..');
execFileSync(process.execPath, [path.join(__dirname, 'build_wasm.js')], {stdio: 'inherit'});
rmSync(path.join(root, 'dist'), {recursive: true, force: true});

const common = {
  entryPoints: [path.join(root, 'src/index.ts')],
  bundle: true,
  platform: 'neutral',
  target: 'es2020',
  external: ['@tensorflow/*'],
  sourcemap: true,
  logLevel: 'warning',
};
esbuild.buildSync({...common, format: 'esm', outfile: path.join(root, 'dist/index.mjs')});
esbuild.buildSync({...common, format: 'cjs', outfile: path.join(root, 'dist/index.cjs')});
execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', 'tsconfig.build.json'],
             {cwd: root, stdio: 'inherit'});

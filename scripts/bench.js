// Runs a TypeScript benchmark: assembles the wasm kernels, bundles the entry with esbuild
// (tfjs packages stay external, so tfjs-backend-wasm loads its .wasm from node_modules), and
// runs the bundle with Node. Usage: node scripts/bench.js bench/cpu.ts [args...]
const {execFileSync, spawnSync} = require('child_process');
const esbuild = require('esbuild');
const fs = require('fs');
const os = require('os');
const path = require('path');

const [entry, ...args] = process.argv.slice(2);
execFileSync(process.execPath, [path.join(__dirname, 'build_wasm.js')], {stdio: 'inherit'});
const outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'im2col-bench-'));
const outfile = path.join(outDir, path.basename(entry).replace(/\.ts$/, '.cjs'));
esbuild.buildSync({
  entryPoints: [path.resolve(entry)],
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  external: ['@tensorflow/*'],
  // Resolve the externals from this repository, not from the temporary folder.
  nodePaths: [path.join(__dirname, '..', 'node_modules')],
  outfile,
  logLevel: 'warning',
});
const result = spawnSync(process.execPath, ['--expose-gc', outfile, ...args], {
  stdio: 'inherit',
  cwd: path.join(__dirname, '..'),
  env: {...process.env, NODE_PATH: path.join(__dirname, '..', 'node_modules')},
});
fs.rmSync(outDir, {recursive: true, force: true});
process.exit(result.status ?? 1);

// Runs a TypeScript entry point (demo, benchmarks): assembles the wasm kernels, bundles the
// entry for Node with esbuild (tfjs packages stay external and resolve from this project,
// so tfjs-backend-wasm loads its .wasm from node_modules), then runs the bundle in a child
// Node with --expose-gc (benchmarks measure memory). Usage: node scripts/run-ts.js FILE [args]
const {execFileSync, spawnSync} = require('child_process');
const esbuild = require('esbuild');
const path = require('path');

const [entry, ...args] = process.argv.slice(2);
if (!entry) {
  console.error('usage: node scripts/run-ts.js FILE.ts [args]');
  process.exit(2);
}
const root = path.join(__dirname, '..');
execFileSync(process.execPath, [path.join(__dirname, 'build_wasm.js')], {stdio: 'inherit'});
// Inside node_modules so the bundle resolves the external packages from this project.
const outfile = path.join(root, 'node_modules', '.cache', 'run-ts',
                          path.basename(entry).replace(/\.ts$/, '') + '.cjs');
esbuild.buildSync({
  entryPoints: [path.resolve(entry)],
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  outfile,
  packages: 'external',
  logLevel: 'warning',
});
const result = spawnSync(process.execPath, ['--expose-gc', outfile, ...args],
                         {stdio: 'inherit', cwd: root});
process.exit(result.status ?? 1);

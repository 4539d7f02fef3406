// Runs a TypeScript entry point (demo, benchmarks): esbuild bundles it for Node into a temp
// file, tfjs packages staying external, then it runs here. Usage: node scripts/run-ts.js FILE [args]
const {execFileSync} = require('child_process');
const esbuild = require('esbuild');
const path = require('path');

const [entry, ...args] = process.argv.slice(2);
if (!entry) {
  console.error('usage: node scripts/run-ts.js FILE.ts [args]');
  process.exit(2);
}
execFileSync(process.execPath, [path.join(__dirname, 'build_wasm.js')], {stdio: 'inherit'});
// Inside node_modules so the bundle resolves the external packages from this project.
const outfile = path.join(__dirname, '..', 'node_modules', '.cache', 'run-ts',
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
process.argv = [process.argv[0], outfile, ...args];
require(outfile);

// `npm run demo:web`: bundles the demo page (demo/web/main.ts with tfjs-core, the cpu and
// webgl backends and this package from src/) with esbuild, in memory, then serves it from a
// small Node http server on localhost and prints the URL. Nothing is fetched at run time.
// Usage: node scripts/demo-web.js [--port N]   (default 8080; 0 picks a free port)
const {execFileSync} = require('child_process');
const esbuild = require('esbuild');
const {readFileSync} = require('fs');
const http = require('http');
const path = require('path');

const webDir = path.join(__dirname, '..', 'demo', 'web');

function parsePort(argv) {
  const i = argv.indexOf('--port');
  if (i < 0) return 8080;
  const port = Number(argv[i + 1]);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    console.error(`--port must be an integer from 0 to 65535, but got ${argv[i + 1]}.`);
    process.exit(2);
  }
  return port;
}

function bundle() {
  // The package embeds its WebAssembly kernels as generated modules; assemble them first.
  execFileSync(process.execPath, [path.join(__dirname, 'build_wasm.js')], {stdio: 'inherit'});
  const result = esbuild.buildSync({
    entryPoints: [path.join(webDir, 'main.ts')],
    bundle: true,
    platform: 'browser',
    format: 'iife',
    target: 'es2020',
    minify: true,
    write: false,
    logLevel: 'warning',
  });
  return result.outputFiles[0].contents;
}

const files = {
  '/': {type: 'text/html; charset=utf-8', body: readFileSync(path.join(webDir, 'index.html'))},
  '/style.css': {type: 'text/css; charset=utf-8', body: readFileSync(path.join(webDir, 'style.css'))},
  '/main.js': {type: 'text/javascript; charset=utf-8', body: bundle()},
};

const server = http.createServer((req, res) => {
  const file = files[new URL(req.url, 'http://localhost').pathname];
  if (!file) {
    res.writeHead(404, {'content-type': 'text/plain'}).end('not found');
    return;
  }
  res.writeHead(200, {'content-type': file.type, 'cache-control': 'no-store'}).end(file.body);
});
server.on('error', error => {
  console.error(`demo server: ${error.message} (choose another port with --port N, or 0 for a free one)`);
  process.exit(1);
});
server.listen(parsePort(process.argv), '127.0.0.1', () => {
  console.log(`demo page: http://127.0.0.1:${server.address().port}/`);
});

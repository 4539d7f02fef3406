/**
 * Finds and launches the headless Chromium the browser suites drive (playwright-core, no
 * browser download). Order: CHROME_PATH, then `chromium` / `chromium-browser` /
 * `google-chrome` on PATH, then the optional npm package @sparticuz/chromium.
 * A missing browser is an error (under CI=true and elsewhere): the suites never skip.
 */
import {execFileSync} from 'child_process';
import {existsSync} from 'fs';
import {Browser, chromium} from 'playwright-core';

export const CHROMIUM_ARGS = [
  '--no-sandbox', '--disable-background-networking', '--disable-component-update',
  '--disable-sync', '--no-first-run', '--disable-dev-shm-usage', '--use-angle=swiftshader',
  '--enable-unsafe-swiftshader', '--ignore-gpu-blocklist',
];

function onPath(name: string): string | null {
  try {
    const found = execFileSync('which', [name], {encoding: 'utf8'}).trim();
    return found || null;
  } catch {
    return null;
  }
}

async function fromSparticuz(): Promise<string | null> {
  try {
    // Optional fallback for bare Linux x64 machines; not a dependency of this package.
    const moduleName = '@sparticuz/chromium';
    const sparticuz = (await import(moduleName)).default;
    return await sparticuz.executablePath();
  } catch {
    return null;
  }
}

export async function findChromium(): Promise<string> {
  const fromEnv = process.env.CHROME_PATH;
  if (fromEnv) {
    if (!existsSync(fromEnv)) throw new Error(`CHROME_PATH=${fromEnv} does not exist.`);
    return fromEnv;
  }
  for (const name of ['chromium', 'chromium-browser', 'google-chrome', 'google-chrome-stable']) {
    const found = onPath(name);
    if (found) return found;
  }
  const packaged = await fromSparticuz();
  if (packaged) return packaged;
  throw new Error('No Chromium found for the browser tests. Set CHROME_PATH, install one ' +
      '(Debian: apt-get install -y chromium), or npm install @sparticuz/chromium@143.');
}

export async function launchChromium(): Promise<Browser> {
  return chromium.launch({executablePath: await findChromium(), headless: true, args: CHROMIUM_ARGS});
}

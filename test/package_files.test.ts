/**
 * What a fresh clone installs from: package-lock.json in step with package.json (else
 * `npm install` rewrites it and the clone is dirty), and the LICENSE package.json names.
 */
import {readFileSync} from 'fs';
import * as path from 'path';

const root = path.join(__dirname, '..');
const read = (file: string) => readFileSync(path.join(root, file), 'utf8');
const pkg = JSON.parse(read('package.json'));
const lock = JSON.parse(read('package-lock.json'));

describe('package-lock.json', () => {
  const rootEntry = lock.packages[''];

  it.each(['dependencies', 'devDependencies', 'peerDependencies', 'optionalDependencies',
           'peerDependenciesMeta'])('records the %s of package.json as written', field => {
    expect(rootEntry[field]).toEqual(pkg[field]);
  });

  it('names the package and version of package.json', () => {
    expect([lock.name, lock.version, rootEntry.name, rootEntry.version, rootEntry.license])
        .toEqual([pkg.name, pkg.version, pkg.name, pkg.version, pkg.license]);
  });

  it('pins every devDependency it installs at a version the range accepts', () => {
    for (const [name, range] of Object.entries<string>(pkg.devDependencies)) {
      const installed = lock.packages[`node_modules/${name}`];
      expect(installed?.version).toBeDefined();
      // Exact pins must match exactly; ranges are npm's to satisfy.
      if (/^\d+\.\d+\.\d+$/.test(range)) expect(`${name}@${installed.version}`).toBe(`${name}@${range}`);
    }
  });
});

it('LICENSE holds the license package.json names', () => {
  expect(pkg.license).toBe('Apache-2.0');
  const text = read('LICENSE');
  expect(text).toMatch(/^\s*Apache License\s+Version 2\.0, January 2004/);
  expect(text).toMatch(/TERMS AND CONDITIONS FOR USE, REPRODUCTION, AND DISTRIBUTION/);
});

/**
 * Every TypeScript code block of the README type-checks under `strict`, against this
 * package's sources (imported by its name, `tfjs-im2col`), so the examples users copy compile.
 * Blocks are whole modules (imports included); other blocks (tables, shell) are not code.
 */
import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'fs';
import {tmpdir} from 'os';
import * as path from 'path';
import * as ts from 'typescript';

const root = path.join(__dirname, '..');

/** The ```ts blocks of a Markdown file, with the line each starts on. */
function codeBlocks(file: string): {line: number, code: string}[] {
  const lines = readFileSync(path.join(root, file), 'utf8').split('\n');
  const blocks: {line: number, code: string}[] = [];
  for (let i = 0; i < lines.length; i++) {
    const fence = /^```(\w*)\s*$/.exec(lines[i]);
    if (fence == null) continue;
    const end = lines.findIndex((l, j) => j > i && /^```\s*$/.test(l));
    if (end < 0) throw new Error(`${file}:${i + 1}: unclosed code block`);
    if (['ts', 'typescript', 'js', 'javascript'].includes(fence[1])) {
      blocks.push({line: i + 1, code: lines.slice(i + 1, end).join('\n')});
    }
    i = end;
  }
  return blocks;
}

describe.each(['README.md'])('%s', file => {
  const blocks = codeBlocks(file);

  it('has code blocks, each tagged ts', () => {
    expect(blocks.length).toBeGreaterThan(0);
    const untyped = readFileSync(path.join(root, file), 'utf8').split('\n')
        .map((l, i) => [l, i + 1] as const).filter(([l]) => /^```(js|javascript)\s*$/.test(l));
    expect(untyped.map(([, line]) => `${file}:${line}`)).toEqual([]);
  });

  it('every block type-checks under strict', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'readme-'));
    try {
      const files = blocks.map(({line, code}) => {
        const name = path.join(dir, `block_line_${line}.ts`);
        // `export {}` makes each block a module of its own, so top-level await is allowed.
        writeFileSync(name, `${code}\nexport {};\n`);
        return name;
      });
      const program = ts.createProgram(files, {
        strict: true, noEmit: true, target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ES2022,
        moduleResolution: ts.ModuleResolutionKind.Bundler, esModuleInterop: true,
        skipLibCheck: true, lib: ['lib.es2022.d.ts', 'lib.dom.d.ts'], types: [],
        baseUrl: root, typeRoots: [path.join(root, 'node_modules', '@types')],
        paths: {
          'tfjs-im2col': ['src/index.ts'], 'tfjs-im2col/cpu': ['src/entries/cpu.ts'],
          'tfjs-im2col/webgl': ['src/entries/webgl.ts'], 'tfjs-im2col/wasm': ['src/entries/wasm.ts'],
          'tfjs-im2col/layers': ['src/entries/layers.ts'], '*': ['node_modules/*']
        },
      });
      const errors = ts.getPreEmitDiagnostics(program).map(d => {
        const where = d.file ? `${path.basename(d.file.fileName)}:` +
            `${d.file.getLineAndCharacterOfPosition(d.start ?? 0).line + 1}` : '';
        return `${where} ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`;
      });
      expect(errors).toEqual([]);
    } finally {
      rmSync(dir, {recursive: true, force: true});
    }
  }, 120000);
});

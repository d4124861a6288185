// The repository as a newcomer's clone sees it: self-contained, built only
// when stale, figures without native addons, types checked by the test command.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const root = new URL('..', import.meta.url).pathname;

describe('the repository', () => {
  it('stands alone: no tracked file reads or links the sibling shared folder', async () => {
    const { stdout } = await run('git', ['ls-files', '-z'], { cwd: root, maxBuffer: 1 << 24 });
    const files = stdout.split('\0').filter(Boolean);
    expect(files.length).toBeGreaterThan(50);
    const needle = ['..', 'shared'].join('/'); // spelled apart so that this file does not match itself
    const outside = files.filter((f) => readFileSync(join(root, f), 'latin1').includes(needle));
    expect(outside).toEqual([]);
  });

  it('asc writes the same bindings beside all four builds (one adapter instantiates them all: src/kernels.ts)', () => {
    const read = (b: string, ext: string) => readFileSync(join(root, `build/simdnet.${b}.${ext}`), 'utf8');
    for (const ext of ['js', 'd.ts']) {
      for (const b of ['scalar', 'simd-threads', 'scalar-threads']) expect(read(b, ext), `build/simdnet.${b}.${ext}`).toBe(read('simd', ext));
    }
  });

  it("the core entry point's static imports reach no node: module (it runs in browsers); the node entry adds the rest", () => {
    const seen = new Map<string, string[]>();
    const visit = (file: string) => {
      if (seen.has(file)) return;
      const text = readFileSync(join(root, file), 'utf8');
      // static imports and re-exports only: dynamic import() of node: modules is how the core reaches them on Node
      const specs = [...text.matchAll(/^\s*(?:import|export)\s(?!type\s)[^;]*?from\s+'([^']+)'/gm)].map((m) => m[1]);
      seen.set(file, specs.filter((x) => x.startsWith('node:') || !x.startsWith('.')));
      for (const x of specs.filter((y) => y.startsWith('.'))) visit(join(file, '..', x).replace(/\.js$/, '.ts').replace(/^build\/(.*)\.ts$/, 'build/$1.js'));
    };
    visit('src/index.ts');
    const offenders = [...seen].filter(([, ext]) => ext.length).map(([f, ext]) => `${f}: ${ext.join(', ')}`);
    expect(offenders).toEqual([]);
    expect(seen.has('src/study/runner.ts')).toBe(false);
    expect(readFileSync(join(root, 'src/node.ts'), 'utf8')).toMatch(/export \* from '\.\/index\.js'/);
  });

  it('builds nothing when nothing changed', async () => {
    const { stderr } = await run('node', ['scripts/build.mjs'], { cwd: root });
    expect(stderr).toBe('');
  });

  it('the test command checks the types of src, test, bench and the page', () => {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
    expect(pkg.scripts.test).toMatch(/npm run typecheck &&/);
    expect(pkg.scripts.typecheck).toBe('tsc --noEmit -p tsconfig.json && tsc --noEmit -p web/tsconfig.json');
    const ts = JSON.parse(readFileSync(join(root, 'tsconfig.json'), 'utf8'));
    expect(ts.include).toEqual(['src', 'test', 'bench']);
    expect(JSON.parse(readFileSync(join(root, 'web/tsconfig.json'), 'utf8')).include).toEqual(['*.ts']);
  });

  it('the report, PNG figures included, is written with native addons disabled', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'simdnet-')), 'out');
    await run('node', ['--no-addons', 'dist/cli/experiment.js', '--models', '3', '--rounds', '2', '--epochs', '1', '--pairs', '10', '--out', dir], { cwd: root });
    for (const f of ['figure.png', 'figure2.png']) {
      const png = readFileSync(join(dir, f));
      expect(png.subarray(1, 4).toString(), f).toBe('PNG');
      expect(png.length).toBeGreaterThan(10_000); // text and curves drawn, not an empty canvas
    }
  });
});

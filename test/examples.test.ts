// The examples and the README's snippets, run as a user would: Node through the
// package's own name, Deno through the `deno` npm package (a devDependency).
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync, rmSync } from 'node:fs';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const root = new URL('..', import.meta.url).pathname;
const deno = new URL('../node_modules/.bin/deno', import.meta.url).pathname;
const denoArgs = ['run', '--allow-read', '--allow-env', '--allow-sys'];
const epochLines = (out: string) => out.split('\n').filter((l) => l.startsWith('epoch '));

/** The README's code block that follows a line containing `marker`. */
function readmeSnippet(marker: string): string {
  const text = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
  const at = text.indexOf(marker);
  expect(at, marker).toBeGreaterThan(-1);
  const m = /```\w*\n([\s\S]*?)```/.exec(text.slice(at));
  return m![1];
}

describe('examples', () => {
  it('examples/node.mjs and examples/deno.ts print the same per-epoch test accuracy', async () => {
    const node = await run('node', ['examples/node.mjs', '2'], { cwd: root });
    const den = await run(deno, [...denoArgs, 'examples/deno.ts', '2'], { cwd: root, env: { ...process.env, NO_COLOR: '1' } });
    const lines = epochLines(node.stdout);
    expect(lines).toHaveLength(2);
    expect(lines[1]).toMatch(/^epoch 2: test accuracy \d+\.\d %$/);
    expect(epochLines(den.stdout)).toEqual(lines); // same seed, same numbers in both runtimes
  });

  it("the README's five-line programs train a model in Node and in Deno", async () => {
    const files = { node: `${root}readme-snippet.tmp.mjs`, deno: `${root}readme-snippet.tmp.ts` };
    try {
      writeFileSync(files.node, readmeSnippet('five-line Node program'));
      writeFileSync(files.deno, readmeSnippet('the same in Deno'));
      const a = await run('node', [files.node], { cwd: root });
      const b = await run(deno, [...denoArgs, files.deno], { cwd: root, env: { ...process.env, NO_COLOR: '1' } });
      expect(a.stdout).toMatch(/final test accuracy 0\.\d+/);
      expect(b.stdout).toBe(a.stdout);
    } finally {
      for (const f of Object.values(files)) rmSync(f, { force: true });
    }
  });
});

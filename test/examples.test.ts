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
  it('examples/node.mjs and examples/deno.ts (on two kernel threads) print the same per-epoch test accuracy', async () => {
    const node = await run('node', ['examples/node.mjs', '2'], { cwd: root });
    const den = await run(deno, [...denoArgs, 'examples/deno.ts', '2', '2'], { cwd: root, env: { ...process.env, NO_COLOR: '1' } });
    const lines = epochLines(node.stdout);
    expect(lines).toHaveLength(2);
    expect(lines[1]).toMatch(/^epoch 2: test accuracy \d+\.\d %$/);
    expect(epochLines(den.stdout)).toEqual(lines); // same seed, same numbers in both runtimes
  });

  it("the README's own network trains through the model API, with the same numbers in Node and in Deno", async () => {
    const files = { node: `${root}readme-network.tmp.mjs`, deno: `${root}readme-network.tmp.ts` };
    try {
      const code = readmeSnippet('A small convolutional network');
      writeFileSync(files.node, code);
      writeFileSync(files.deno, code);
      const a = await run('node', [files.node], { cwd: root });
      expect(a.stdout).toMatch(/total parameters: 52138/);
      const acc = epochLines(a.stdout).map((l) => Number(/test accuracy ([\d.]+) %/.exec(l)![1]));
      expect(acc).toHaveLength(2);
      expect(acc[1]).toBeGreaterThan(93); // two epochs on 7000 digits
      const b = await run(deno, [...denoArgs, '--allow-write', files.deno], { cwd: root, env: { ...process.env, NO_COLOR: '1' } });
      expect(epochLines(b.stdout)).toEqual(epochLines(a.stdout));
    } finally {
      for (const f of [...Object.values(files), `${root}digits.safetensors`]) rmSync(f, { force: true });
    }
  });

  it('examples/lenet.mjs trains LeNet-5 on 28×28 digits (two epochs here; the README gives the full run)', async () => {
    const { stdout } = await run('node', ['examples/lenet.mjs', '2'], { cwd: root });
    expect(stdout).toMatch(/total parameters: 61706/);
    const final = Number(/test accuracy ([\d.]+) % \(3000 digits\) after 2 epochs on 7000 digits/.exec(stdout)![1]);
    expect(final).toBeGreaterThan(94);
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

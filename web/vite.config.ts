// The page (web/): built with Vite into build/web, served by `npm run web`.
// The core is imported from src/ as TypeScript; the wasm kernels and the
// digits (build/) become hashed assets of the bundle, so the page needs no CDN
// and works offline once loaded. COOP/COEP make the page cross-origin
// isolated (SharedArrayBuffer, high-resolution timers) in dev and preview.
import { readFileSync } from 'node:fs';
import { defineConfig } from 'vite';

const root = new URL('..', import.meta.url).pathname;
const isolation = { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' };
const version = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version as string;

export default defineConfig({
  root: new URL('.', import.meta.url).pathname,
  base: './',
  define: { __SIMDNET_VERSION__: JSON.stringify(version) },
  build: { outDir: `${root}build/web`, emptyOutDir: true, target: 'es2022', chunkSizeWarningLimit: 2048 },
  worker: { format: 'es' },
  server: { headers: isolation, fs: { allow: [root] } },
  preview: { headers: isolation },
  logLevel: 'info',
});

/**
 * The console is served by the Hookbot server at /console/ (packages/server/src/console). Everything is bundled:
 * no asset is loaded from outside the server at run time (the CSP forbids it). The sample hook requests of
 * examples/requests are imported as lazy chunks, read only when the test panel or fact explorer opens.
 */
import { defineConfig } from 'vite';

export default defineConfig({
  base: '/console/',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    // Source maps would double what a first load may fetch through the DevTools; the CLI's sources are public.
    sourcemap: false,
    modulePreload: { polyfill: false },
    // The editor chunk (CodeMirror and YAML) is ~180 KB compressed and loads only when a rule set opens.
    chunkSizeWarningLimit: 700,
  },
  server: { fs: { allow: ['../..'] } },
});

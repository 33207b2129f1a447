// Builds the dashboard page into dist/dashboard-web (static files the control plane serves).
import { defineConfig } from 'vite';

export default defineConfig({
  root: new URL('.', import.meta.url).pathname,
  base: './',
  logLevel: 'warn',
  build: {
    outDir: new URL('../../../dist/dashboard-web', import.meta.url).pathname,
    emptyOutDir: true,
    sourcemap: false,
  },
});

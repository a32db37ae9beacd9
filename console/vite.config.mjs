// The web console's build: `npm run build` runs it after the service's tsc; output in dist/console,
// served by the service (src/console/serve-console.ts). JSX goes through Vite's own transform (oxc),
// so no framework plugin is needed.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const root = fileURLToPath(new URL('.', import.meta.url));

export default defineConfig({
  root,
  base: '/',
  publicDir: 'public',
  logLevel: 'warn',
  oxc: { jsx: { runtime: 'automatic' } },
  // npm run console:dev: the console with hot reload on :5173, the API of a service started with npm start
  server: { proxy: { '/api': 'http://localhost:5000' } },
  build: {
    outDir: fileURLToPath(new URL('../dist/console', import.meta.url)),
    emptyOutDir: true,
    assetsDir: 'assets',
    sourcemap: false,
    chunkSizeWarningLimit: 600,
  },
});

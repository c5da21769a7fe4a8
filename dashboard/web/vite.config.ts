// Vite build of the monitoring-centre web client: root = dashboard/web, output dashboard/web/dist (served
// by the dashboard server at `/`). mapbox-gl is optional: when it is not installed, its lazy import
// resolves to a stub that fails with a clear message instead of breaking the build.
import { defineConfig } from 'vite'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'
import { dirname, resolve } from 'node:path'

const here = dirname(fileURLToPath(import.meta.url))
const require = createRequire(import.meta.url)

function installed(name: string): boolean {
  try { require.resolve(`${name}/package.json`, { paths: [here] }); return true } catch { return false }
}

export default defineConfig({
  root: here,
  base: '/',
  publicDir: false,
  resolve: {
    alias: installed('mapbox-gl') ? {} : { 'mapbox-gl': resolve(here, 'src/mapbox-missing.ts') },
  },
  build: {
    outDir: resolve(here, 'dist'),
    emptyOutDir: true,
    target: 'es2022',
    chunkSizeWarningLimit: 2500,
    sourcemap: false,
  },
  server: { host: '127.0.0.1', proxy: { '/api': 'http://127.0.0.1:8080', '/socket.io': { target: 'ws://127.0.0.1:8080', ws: true } } },
})

import { defineConfig } from 'vite';

// The dashboard is served by the strata binary (embedded from dist/); `npm run dev` proxies the
// API to a running strata on 127.0.0.1:8080.
export default defineConfig({
  base: '/',
  build: { outDir: 'dist', emptyOutDir: true, assetsInlineLimit: 0, sourcemap: false },
  server: {
    proxy: { '/api': 'http://127.0.0.1:8080', '/metrics': 'http://127.0.0.1:8080' },
  },
});

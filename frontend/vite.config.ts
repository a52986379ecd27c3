import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

// `base: './'` so the built files load from Wails' embedded asset server and from
// `tributary serve` under any path.
export default defineConfig({
  base: './',
  plugins: [react()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    chunkSizeWarningLimit: 2500,
  },
  server: {
    proxy: {
      // `npm run dev` against a running `tributary serve` (default address below).
      '/api': { target: process.env.TRIBUTARY_URL || 'http://127.0.0.1:8080', changeOrigin: true },
    },
  },
});

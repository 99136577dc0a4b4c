// Builds public/hush.js from src/beacon/hush.ts with esbuild (bundled, minified, ES2020).
// Runs before `npm start` and `npm test`, and on `npm install` (prepare), so the output is
// never edited by hand nor committed. Prints the gzipped size against the 1,536-byte budget.
import { build } from 'esbuild';
import { gzipSync } from 'node:zlib';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
const out = path.join(root, 'public/hush.js');
await build({
  entryPoints: [path.join(root, 'src/beacon/hush.ts')],
  outfile: out,
  bundle: true,
  minify: true,
  format: 'iife',
  target: 'es2020',
  legalComments: 'none',
  logLevel: 'warning',
});
const bytes = readFileSync(out);
if (!process.argv.includes('--quiet')) {
  console.log(`public/hush.js: ${bytes.length} bytes, ${gzipSync(bytes, { level: 9 }).length} bytes gzipped (budget 1536)`);
}

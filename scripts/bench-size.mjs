// The size budget: gzipped (level 9) bytes of what a browser app loads from the
// package, the wasm plus the JS entry and its glue, as shipped (not minified).
//
//   node scripts/bench-size.mjs [PKG_DIR] [--limit-kb N]
//
// With --limit-kb it exits 1 when the total is above N KB (1 KB = 1000 bytes).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

const args = process.argv.slice(2);
const limitAt = args.indexOf('--limit-kb');
const limitKb = limitAt >= 0 ? Number(args.splice(limitAt, 2)[1]) : null;
const dir = args[0] ?? 'pkg';

const files = ['emedia_wasm_bg.wasm', 'emedia_wasm.js', 'index.js'];
let total = 0;
for (const name of files) {
  const raw = readFileSync(join(dir, name));
  const gz = gzipSync(raw, { level: 9 }).length;
  total += gz;
  console.log(`${name.padEnd(22)} ${String(raw.length).padStart(7)} B raw ${String(gz).padStart(7)} B gzipped`);
}
const kb = (total / 1000).toFixed(1);
console.log(`browser total          ${kb} KB gzipped (goal 60 KB${limitKb ? `, limit ${limitKb} KB` : ''})`);
if (limitKb !== null && total > limitKb * 1000) {
  console.error(`size budget exceeded: ${kb} KB > ${limitKb} KB`);
  process.exit(1);
}

// Drops the doc comments wasm-bindgen copies from the Rust sources into its JS glue
// (`/** ... */` above each method): the package's types and docs are js/index.d.ts,
// so in the glue they are only bytes every page downloads (~1.2 KB gzipped).
//
//   node scripts/strip-glue-docs.mjs GLUE.js     (rewrites the file in place)
import { readFileSync, writeFileSync } from 'node:fs';

const file = process.argv[2];
const glue = readFileSync(file, 'utf8');
const stripped = glue.replace(/^[ \t]*\/\*\*[\s\S]*?\*\/\n/gm, '');
if (stripped.length === glue.length) throw new Error(`strip-glue-docs: no doc comment in ${file}`);
writeFileSync(file, stripped);

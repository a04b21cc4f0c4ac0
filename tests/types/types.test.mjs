// tsc accepts right use of the declarations (with each marked wrong use refused),
// and refuses unmarked wrong use. Needs pkg/ built (scripts/build-pkg.sh).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const dir = fileURLToPath(new URL('.', import.meta.url));
function check(file) {
  return spawnSync(process.execPath, ['node_modules/typescript/bin/tsc', '--noEmit', '--strict', '--target', 'es2020',
    '--module', 'esnext', '--moduleResolution', 'bundler', '--lib', 'es2020,dom', file], { cwd: dir, encoding: 'utf8' });
}

test('right use type-checks, and every marked wrong use is refused', () => {
  const r = check('usage.ts');
  assert.equal(r.status, 0, r.stdout + r.stderr);
});

test('unmarked wrong use fails to compile, naming the mistakes', () => {
  const r = check('misuse.ts');
  assert.notEqual(r.status, 0);
  assert.match(r.stdout, /misuse\.ts\(5,/, 'the bad role');
  assert.match(r.stdout, /misuse\.ts\(6,/, 'the bad hook');
});

// The UTF-8 fallback the mini-program glue uses where the runtime has no
// TextEncoder/TextDecoder agrees with Node's own, byte for byte, including on
// malformed input (one U+FFFD per maximal ill-formed subsequence).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { Utf8Encoder, Utf8Decoder } = require('../../js/miniprogram/text-codec.js');

test('encodes like TextEncoder, lone surrogates included', () => {
  const mine = new Utf8Encoder();
  const node = new TextEncoder();
  for (const s of ['', 'abc', 'héllo wörld', '会议室 😀 x', '\ud800x', 'a\udc00', '\u{10ffff}', 'x'.repeat(10000)]) {
    assert.deepEqual(Buffer.from(mine.encode(s)), Buffer.from(node.encode(s)), JSON.stringify(s.slice(0, 20)));
  }
});

test('decodes like TextDecoder on well-formed and malformed bytes', () => {
  const mine = new Utf8Decoder();
  const node = new TextDecoder();
  assert.equal(mine.decode(), '');
  assert.equal(mine.decode(new Utf8Encoder().encode('会议室 😀')), '会议室 😀');
  // Byte soup from lead bytes, boundary continuation bytes and invalid bytes.
  const alphabet = [0x61, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xc0, 0xc2, 0xdf, 0xe0, 0xed, 0xef, 0xf0, 0xf4, 0xf5, 0xff];
  let seed = 42;
  const rand = (n) => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed % n;
  };
  for (let t = 0; t < 20000; t++) {
    const bytes = Uint8Array.from({ length: rand(9) }, () => alphabet[rand(alphabet.length)]);
    assert.equal(mine.decode(bytes), node.decode(bytes), `bytes ${[...bytes].map((b) => b.toString(16))}`);
  }
});

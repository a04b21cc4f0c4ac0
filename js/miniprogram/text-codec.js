'use strict';
// TextEncoder / TextDecoder for the wasm glue: the runtime's own where it has them,
// else a small UTF-8 codec (WeChat mini-programs have neither on every platform).
// Only what the glue uses: encode(string) and decode(Uint8Array | undefined).

class Utf8Encoder {
  get encoding() {
    return 'utf-8';
  }

  encode(text = '') {
    const out = new Uint8Array(text.length * 3);
    let n = 0;
    for (let i = 0; i < text.length; i++) {
      let c = text.charCodeAt(i);
      if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
        const low = text.charCodeAt(i + 1);
        if (low >= 0xdc00 && low <= 0xdfff) {
          c = 0x10000 + ((c - 0xd800) << 10) + (low - 0xdc00);
          i++;
        }
      }
      // A lone surrogate cannot be encoded: U+FFFD, as the standard encoder does.
      if (c >= 0xd800 && c <= 0xdfff) c = 0xfffd;
      if (c < 0x80) {
        out[n++] = c;
      } else if (c < 0x800) {
        out[n++] = 0xc0 | (c >> 6);
        out[n++] = 0x80 | (c & 0x3f);
      } else if (c < 0x10000) {
        out[n++] = 0xe0 | (c >> 12);
        out[n++] = 0x80 | ((c >> 6) & 0x3f);
        out[n++] = 0x80 | (c & 0x3f);
      } else {
        out[n++] = 0xf0 | (c >> 18);
        out[n++] = 0x80 | ((c >> 12) & 0x3f);
        out[n++] = 0x80 | ((c >> 6) & 0x3f);
        out[n++] = 0x80 | (c & 0x3f);
      }
    }
    return out.slice(0, n);
  }
}

class Utf8Decoder {
  get encoding() {
    return 'utf-8';
  }

  // The WHATWG UTF-8 decoder: each maximal ill-formed subsequence becomes one U+FFFD.
  decode(bytes) {
    if (!bytes) return '';
    const units = [];
    let text = '';
    let i = 0;
    while (i < bytes.length) {
      const b = bytes[i++];
      let c = b;
      let need = 0;
      let lower = 0x80;
      let upper = 0xbf;
      if (b >= 0xc2 && b <= 0xdf) {
        need = 1;
        c = b & 0x1f;
      } else if (b >= 0xe0 && b <= 0xef) {
        need = 2;
        c = b & 0x0f;
        if (b === 0xe0) lower = 0xa0;
        if (b === 0xed) upper = 0x9f;
      } else if (b >= 0xf0 && b <= 0xf4) {
        need = 3;
        c = b & 0x07;
        if (b === 0xf0) lower = 0x90;
        if (b === 0xf4) upper = 0x8f;
      } else if (b >= 0x80) {
        c = 0xfffd;
      }
      while (need > 0) {
        const next = bytes[i];
        if (i >= bytes.length || next < lower || next > upper) {
          // The byte that broke the sequence starts the next one.
          c = 0xfffd;
          break;
        }
        c = (c << 6) | (next & 0x3f);
        lower = 0x80;
        upper = 0xbf;
        need--;
        i++;
      }
      if (c >= 0x10000) {
        c -= 0x10000;
        units.push(0xd800 + (c >> 10), 0xdc00 + (c & 0x3ff));
      } else {
        units.push(c);
      }
      if (units.length >= 8192) {
        text += String.fromCharCode.apply(null, units);
        units.length = 0;
      }
    }
    return text + String.fromCharCode.apply(null, units);
  }
}

module.exports = {
  TextEncoder: typeof TextEncoder === 'function' ? TextEncoder : Utf8Encoder,
  TextDecoder: typeof TextDecoder === 'function' ? TextDecoder : Utf8Decoder,
  Utf8Encoder,
  Utf8Decoder,
};

// Hostile UDP at the SFU's port while a conference's media flows: every length from 0
// to 1500 bytes shaped as STUN, DTLS, RTP and RTCP, plus random bytes. The server must
// neither panic nor stall: the subscriber keeps decoding new frames afterwards.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { randomBytes } from 'node:crypto';
import { launch } from './browser.mjs';
import { publishedPair, expectFlowing, serverStats } from './page-sdk.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

/** A packet of `len` bytes whose first bytes look like `shape` (RFC 7983 demux ranges). */
function packet(shape, len) {
  const b = randomBytes(len);
  const head = {
    stun: [0x00, 0x01, (len - 20) >> 8 & 0xff, (len - 20) & 0xff, 0x21, 0x12, 0xa4, 0x42],
    dtls: [22, 0xfe, 0xfd, 0, 0],
    rtp: [0x80, 96, 0, 1],
    rtcp: [0x80, 200 + (len % 7), 0, (len >> 2) & 0xff],
    random: [],
  }[shape];
  head.slice(0, len).forEach((v, i) => { b[i] = v; });
  return b;
}

async function blast(host, port) {
  const sock = dgram.createSocket('udp4');
  let sent = 0;
  for (const shape of ['stun', 'dtls', 'rtp', 'rtcp', 'random']) {
    for (let len = 0; len <= 1500; len++) {
      await new Promise((resolve, reject) => sock.send(packet(shape, len), port, host, (e) => (e ? reject(e) : resolve())));
      sent++;
      // Bounded load: a short pause every 100 packets.
      if (sent % 100 === 0) await new Promise((r) => setTimeout(r, 5));
    }
  }
  sock.close();
  return sent;
}

test('hostile UDP at the SFU port leaves running media flowing', async () => {
  const { alice, bob, joined: a, cam, flowing: before } = await publishedPair(browser, 'udp');

  const { media } = await serverStats();
  const [host, port] = [media.slice(0, media.lastIndexOf(':')), Number(media.slice(media.lastIndexOf(':') + 1))];
  assert.equal(host, '127.0.0.1', 'loopback only');
  const sent = await blast(host, port);
  assert.equal(sent, 5 * 1501);

  const after = await expectFlowing(bob, cam);
  assert.ok(after.framesDecoded > before.framesDecoded, 'new frames after the blast');
  const health = await serverStats();
  assert.equal(health.status, 'ok');
  assert.equal(health.peers, 2, 'the publisher and the subscriber, no peer made by the junk');
  await alice.evaluate((id) => window.mgr.exitConference(id), a.confrId);
  await bob.evaluate((id) => window.mgr.exitConference(id), a.confrId);
});

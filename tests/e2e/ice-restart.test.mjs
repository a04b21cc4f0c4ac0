// When the media path breaks (here: every packet between the browsers and the SFU
// dropped for 10 s, signaling untouched) the SDK restarts ICE on the same connections:
// the stream keeps its id, nobody sees it end, and the subscriber decodes again.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { launch } from './browser.mjs';
import { publishedPair, expectFlowing, inbound } from './page-sdk.mjs';
import { startServer, token, udpCable } from './own-server.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

const CUT_MS = 10000;

test('a broken media path is restarted without ending the stream', async () => {
  const media = await udpCable();
  const server = await startServer({ args: media.args });
  const health = async () => (await fetch(`${server.url}/healthz`)).json();
  try {
    const tokens = { alice: token('alice'), bob: token('bob') };
    const { alice, bob, cam } = await publishedPair(browser, 'ice', { server: server.url, tokens });
    await bob.evaluate(() => { window.log = []; });
    assert.equal((await health()).iceRestarts, 0);

    media.cut();
    await new Promise((r) => setTimeout(r, CUT_MS));
    const stalled = (await inbound(bob, cam)).framesDecoded;
    media.mend();

    const after = await expectFlowing(bob, cam, { timeout: 30000 });
    assert.ok(after.framesDecoded > stalled, 'bob decodes new frames');
    const h = await health();
    assert.ok(h.iceRestarts >= 1, `ICE was restarted (${h.iceRestarts})`);
    console.log(`ICE restarts answered: ${h.iceRestarts}`);
    assert.equal(h.streams, 1, 'the same stream, still live');
    assert.equal(await alice.evaluate(() => window.cam.id), cam, 'same stream id');
    const seen = await bob.evaluate(() => window.log.map((e) => e.name));
    assert.deepEqual(seen.filter((n) => /StreamRemoved|MemberExited|ConferenceExit/.test(n)), [], 'bob saw nothing end');
  } finally {
    await server.stop();
    media.close();
  }
});

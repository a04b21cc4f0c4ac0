// When the server can no longer resume a session, the SDK joins again in full and
// publishes again: once after the session expired (offline past the liveness timeout)
// and once after the server restarted (the room is opened again by name).
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { launch } from './browser.mjs';
import { publishedPair, waitForHook, expectFlowing } from './page-sdk.mjs';
import { startServer, token, cable } from './own-server.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

const LIVENESS = ['--liveness-timeout-ms', '1500'];

const clearLog = (...pages) => Promise.all(pages.map((p) => p.evaluate(() => { window.log = []; })));

/** Waits until Alice's pubStream result carries an id other than `old`; returns it. */
async function republished(alice, old) {
  const handle = await alice.waitForFunction((old) => window.cam.id !== old && window.cam.id, old, { timeout: 30000, polling: 100 });
  return handle.jsonValue();
}

/** Bob sees Alice's stream `id` and receives it. */
async function bobReceives(bob, id) {
  await waitForHook(bob, 'onStreamAdded', `args[1].id === ${JSON.stringify(id)}`, 20000);
  await bob.evaluate(async (id) => { await window.mgr.subStream(id); }, id);
  await expectFlowing(bob, id);
}

test('a lost session is joined again and its stream published again', async () => {
  let server = await startServer({ args: LIVENESS });
  const path = await cable(server.url.replace('http://', ''));
  try {
    const tokens = { alice: token('alice'), bob: token('bob') };
    const aliceSignaling = `http://127.0.0.1:${path.port}`;
    const { alice, bob, cam, joined } = await publishedPair(browser, 'rejoin', { server: server.url, tokens, aliceSignaling });
    await clearLog(alice, bob);

    // 1. Alice's signaling path goes dead for longer than the liveness timeout: the
    // server ends her session, and her heartbeat goes unanswered.
    path.cut();
    await waitForHook(bob, 'onMemberExited', 'args[0].name === "alice" && args[1] === 1', 20000);
    await waitForHook(alice, 'onReconnecting', 'true', 20000);
    path.mend();
    await waitForHook(alice, 'onReconnected', 'true', 30000);
    const cam2 = await republished(alice, cam);
    await waitForHook(bob, 'onMemberJoined', 'args[0].name === "alice"');
    await bobReceives(bob, cam2);
    const info = await alice.evaluate((id) => window.mgr.getConferenceInfo(id), joined.confrId);
    assert.deepEqual(info.members.map((m) => m.name).sort(), ['alice', 'bob'], 'one entry each');
    await waitForHook(bob, 'onStreamRemoved', `args[1].id === ${JSON.stringify(cam)}`);
    const health = await (await fetch(`${server.url}/healthz`)).json();
    assert.equal(health.streams, 1, 'only the republished stream is live');

    // 2. The server restarts on the same port: both come back into the room by name.
    await clearLog(alice, bob);
    const port = new URL(server.url).port;
    await server.stop();
    server = await startServer({ listen: `127.0.0.1:${port}`, args: LIVENESS });
    await waitForHook(alice, 'onReconnected', 'true', 30000);
    await waitForHook(bob, 'onReconnected', 'true', 30000);
    const cam3 = await republished(alice, cam2);
    await bobReceives(bob, cam3);
    // Bob's old subscription ended with the old server: he was told.
    await waitForHook(bob, 'onStreamRemoved', `args[1].id === ${JSON.stringify(cam2)}`);

    for (const page of [alice, bob]) {
      const exits = await page.evaluate(() => window.log.filter((e) => e.name === 'onConferenceExit'));
      assert.deepEqual(exits, [], 'nobody left the conference');
    }
    const confrId = await alice.evaluate(() => window.cam.confrId);
    await alice.evaluate((id) => window.mgr.exitConference(id), confrId);
    await bob.evaluate((id) => window.mgr.exitConference(id), confrId);
  } finally {
    path.close();
    await server.stop();
  }
});

// When the server can no longer resume a session, the SDK joins again in full and
// publishes again: once after the session expired (offline past the liveness timeout)
// and once after the server restarted (the room is opened again by name). A page in
// no conference, waiting to be called, logs in again after a restart.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { launch } from './browser.mjs';
import { publishedPair, waitForHook, expectFlowing, openMember } from './page-sdk.mjs';
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

test('pages waiting to be called log in again after a server restart, and can be called', async () => {
  let server = await startServer();
  try {
    const open = async (user) => {
      const page = await openMember(browser, user, { server: server.url, token: token(user) });
      await page.evaluate(() => {
        for (const hook of ['onUserStatusChanged', 'onInvited']) {
          window.mgr[hook] = (...args) => window.log.push({ name: hook, args: JSON.parse(JSON.stringify(args)) });
        }
        return window.mgr.isBusy(); // a round trip: logged in
      });
      return page;
    };
    const [dana, ed] = [await open('dana'), await open('ed')];
    await dana.evaluate(() => window.mgr.startUserStatusNotify());

    const port = new URL(server.url).port;
    await server.stop();
    server = await startServer({ listen: `127.0.0.1:${port}` });
    // Nobody calls anything: both come back online by themselves.
    const danaOnline = () => ed.evaluate(async () => {
      try {
        return (await window.mgr.getUserStatus(['dana']))[0].status === 1;
      } catch (_) {
        return false; // Ed himself may still be on his way back
      }
    });
    for (const began = Date.now(); !(await danaOnline());) {
      assert.ok(Date.now() - began < 30000, 'dana is back online');
      await new Promise((r) => setTimeout(r, 250));
    }
    const seen = await dana.evaluate(() => window.log.map((e) => e.name));
    assert.ok(!seen.includes('onReconnecting'), 'no onReconnecting outside conferences');
    // Dana's presence watch was asked for again, and she can be called.
    await clearLog(dana);
    const call = await ed.evaluate(() => window.mgr.call('dana', { type: 'audio' }));
    await waitForHook(dana, 'onInvited', `args[0].callId === ${JSON.stringify(call.callId)}`, 20000);
    await waitForHook(dana, 'onUserStatusChanged', 'args[0].userId === "ed" && args[0].status === 2', 20000);
    await ed.evaluate((id) => window.mgr.hangup(id), call.callId);
  } finally {
    await server.stop();
  }
});

// Helpers for driving the built SDK inside a page: each page is one member.
import { SERVER } from './browser.mjs';

/**
 * Opens a page on the server's origin (a secure context) with the SDK loaded and hooks
 * logged. The token comes from the dev server's /dev/token unless one is given.
 */
export async function openMember(browser, user, { server = SERVER, token = null, signaling = null } = {}) {
  const page = await (await browser.newContext()).newPage();
  page.on('pageerror', (e) => console.error(`[${user}] page error: ${e.message}`));
  await page.goto(`${server}/healthz`);
  await page.evaluate(async ([user, given, signaling]) => {
    const { default: emedia } = await import('/pkg/index.js');
    await emedia.ready;
    if (signaling) emedia.config({ server: signaling });
    const mgr = emedia.mgr;
    const token = given ?? (await (await fetch(`/dev/token?user=${user}`)).json()).token;
    mgr.setIdentity(user, token);
    window.mgr = mgr;
    window.log = [];
    window.subs = {};
    const record = (name) => (...args) => window.log.push({ name, args: JSON.parse(JSON.stringify(args, (k, v) => (v instanceof MediaStream ? undefined : v))) });
    for (const hook of ['onMemberJoined', 'onMemberExited', 'onRoleChanged', 'onConferenceExit',
      'onStreamAdded', 'onStreamRemoved', 'onMediaChanaged', 'onMediaChanged', 'onReconnecting', 'onReconnected']) {
      mgr[hook] = record(hook);
    }
  }, [user, token, signaling]);
  return page;
}

/** Waits until the page's hook log has an entry matching `pred` (run in the page). */
export async function waitForHook(page, name, predSource = 'true', timeout = 15000) {
  return page.waitForFunction(
    ([name, predSource]) => {
      const pred = new Function('args', `return ${predSource};`);
      return window.log.find((e) => e.name === name && pred(e.args));
    },
    [name, predSource],
    { timeout, polling: 50 },
  ).then((h) => h.jsonValue());
}

/** The inbound-rtp stats of one subscribed stream: video frames decoded and audio packets. */
export async function inbound(page, streamId) {
  return page.evaluate(async (id) => {
    const report = await window.mgr.getStats(id);
    const out = { framesDecoded: 0, audioPackets: 0, videoCodec: null };
    const codecs = {};
    report.forEach((s) => { if (s.type === 'codec') codecs[s.id] = s.mimeType; });
    report.forEach((s) => {
      if (s.type !== 'inbound-rtp') return;
      if (s.kind === 'video') {
        out.framesDecoded += s.framesDecoded ?? 0;
        out.videoCodec = codecs[s.codecId] ?? out.videoCodec;
      }
      if (s.kind === 'audio') out.audioPackets += s.packetsReceived ?? 0;
    });
    return out;
  }, streamId);
}

/** Resolves once the stream's decoded frames rose past `above`, twice in a row, and audio (if wanted) arrived. */
export async function expectFlowing(page, streamId, { audio = true, timeout = 15000 } = {}) {
  const start = Date.now();
  let first = null;
  for (;;) {
    const s = await inbound(page, streamId);
    if (first === null && s.framesDecoded > 0 && (!audio || s.audioPackets > 0)) first = s;
    else if (first !== null && s.framesDecoded > first.framesDecoded && (!audio || s.audioPackets > first.audioPackets)) return s;
    if (Date.now() - start > timeout) throw new Error(`stream ${streamId} is not flowing: ${JSON.stringify(s)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

export async function serverStats() {
  return (await fetch(`${SERVER}/healthz`)).json();
}

/**
 * Alice and Bob in a fresh room; Alice publishes camera + microphone (the pubStream
 * result is kept as `window.cam`) and Bob's subscription is flowing. `tokens` maps a
 * user to a login token when the server is not in dev mode; `aliceSignaling` is the
 * server URL Alice's SDK connects to, when not the page's origin.
 */
export async function publishedPair(browser, prefix, { server = SERVER, tokens = {}, aliceSignaling = null } = {}) {
  const room = `${prefix}${Date.now()}`;
  const alice = await openMember(browser, 'alice', { server, token: tokens.alice, signaling: aliceSignaling });
  const bob = await openMember(browser, 'bob', { server, token: tokens.bob });
  const joined = await alice.evaluate((roomName) => window.mgr.joinRoom({ roomName }), room);
  await bob.evaluate((roomName) => window.mgr.joinRoom({ roomName }), room);
  const cam = await alice.evaluate(async () => {
    window.cam = await window.mgr.pubStream({ audio: true, video: true });
    return window.cam.id;
  });
  await waitForHook(bob, 'onStreamAdded', `args[1].id === ${JSON.stringify(cam)}`);
  await bob.evaluate(async (id) => { await window.mgr.subStream(id); }, cam);
  const flowing = await expectFlowing(bob, cam);
  return { alice, bob, joined, cam, flowing };
}

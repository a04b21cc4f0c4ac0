// Three members in one conference see and hear each other through the SFU:
// publish, subscribe, pause/resume, a second stream, unpublish, kick, demotion,
// refusals, hostile offers, and no peer connection or stream left behind.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { launch, SERVER } from './browser.mjs';
import { openMember, waitForHook, expectFlowing, serverStats } from './page-sdk.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

const join = (page, roomName, role) => page.evaluate(([roomName, role]) => window.mgr.joinRoom({ roomName, role }), [roomName, role]);
const subscribe = (page, id, opts) => page.evaluate(async ([id, opts]) => { const r = await window.mgr.subStream(id, opts); window.subs[id] = r.stream; return { id: r.id, tracks: r.stream.getTracks().length }; }, [id, opts]);
const codeOf = (page, expr) => page.evaluate(async (expr) => { try { await eval(expr); return 0; } catch (e) { return e.code; } }, expr);

async function waitIdle() {
  for (let i = 0; i < 100; i++) {
    const s = await serverStats();
    if (s.peers === 0 && s.streams === 0) return s;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.fail(`server still holds media: ${JSON.stringify(await serverStats())}`);
}

test('three members publish, subscribe, pause, unpublish, get kicked and demoted', async () => {
  const room = `media${Date.now()}`;
  const carol = await openMember(browser, 'carol'); // ADMIN
  const alice = await openMember(browser, 'alice');
  const bob = await openMember(browser, 'bob');
  const c = await join(carol, room, 7);
  assert.equal(c.role, 7);
  await join(alice, room, 3);
  await join(bob, room, 3);

  // Alice publishes camera + microphone; Bob and Carol subscribe and receive both.
  const cam = await alice.evaluate(async () => { const p = await window.mgr.pubStream({ audio: true, video: true }); return { id: p.id, rtcId: p.rtcId, tracks: p.stream.getTracks().length }; });
  assert.equal(cam.tracks, 2);
  for (const page of [bob, carol]) {
    const added = await waitForHook(page, 'onStreamAdded', `args[1].id === ${JSON.stringify(cam.id)}`);
    assert.equal(added.args[0].name, 'alice', 'onStreamAdded(member, stream) names the publisher');
    assert.equal(added.args[1].type, 'camera');
    assert.equal(added.args[1].rtcId, cam.rtcId);
    assert.deepEqual([added.args[1].voff, added.args[1].aoff], [0, 0]);
    assert.equal((await subscribe(page, cam.id)).tracks, 2);
  }
  const flowing = await Promise.all([expectFlowing(bob, cam.id), expectFlowing(carol, cam.id)]);
  assert.equal(flowing[0].videoCodec, 'video/VP8', 'VP8 unless asked otherwise');

  // A member who joins late hears of the stream already there.
  const dave = await openMember(browser, 'dave');
  await join(dave, room, 3);
  const late = await waitForHook(dave, 'onStreamAdded', `args[1].id === ${JSON.stringify(cam.id)}`);
  assert.equal(late.args[0].name, 'alice');
  await dave.evaluate((cid) => window.mgr.exitConference(cid), c.confrId);

  // Pause and resume video: the others see voff 1, then 0 (and the alias fires too).
  await alice.evaluate((id) => window.mgr.pauseVideo(id), cam.id);
  for (const page of [bob, carol]) {
    await waitForHook(page, 'onMediaChanaged', `args[0].id === ${JSON.stringify(cam.id)} && args[0].voff === 1`);
    await waitForHook(page, 'onMediaChanged', `args[0].voff === 1`);
  }
  await alice.evaluate((id) => window.mgr.resumeVideo(id), cam.id);
  for (const page of [bob, carol]) {
    await waitForHook(page, 'onMediaChanaged', `args[0].id === ${JSON.stringify(cam.id)} && args[0].voff === 0`);
  }

  // A second, screen-like stream (a canvas) of type desktop: both streams flow.
  const screen = await alice.evaluate(async () => {
    const canvas = document.createElement('canvas');
    canvas.width = 320; canvas.height = 240;
    const ctx = canvas.getContext('2d');
    let n = 0;
    window.painter = setInterval(() => { ctx.fillStyle = `hsl(${(n += 7) % 360} 80% 50%)`; ctx.fillRect(0, 0, 320, 240); }, 40);
    const p = await window.mgr.pubStream({ stream: canvas.captureStream(25), type: 'desktop', rtcId: 'screen' });
    return { id: p.id };
  });
  const shown = await waitForHook(bob, 'onStreamAdded', `args[1].id === ${JSON.stringify(screen.id)}`);
  assert.equal(shown.args[1].type, 'desktop');
  await subscribe(bob, screen.id);
  await Promise.all([expectFlowing(bob, screen.id, { audio: false }), expectFlowing(bob, cam.id)]);

  // Hostile input from a raw socket while the media flows: each gets a code, nobody is disturbed.
  const codes = await carol.evaluate(async ([confrId, camId]) => {
    const { token } = await (await fetch('/dev/token?user=mallory')).json();
    const ws = new WebSocket(`ws://${location.host}/ws`);
    const replies = {};
    ws.onmessage = (m) => { const msg = JSON.parse(m.data); if (msg.reply) replies[msg.reply.rid] = msg.reply.body; };
    await new Promise((r) => { ws.onopen = r; });
    const send = (rid, req) => ws.send(JSON.stringify({ rid, req }));
    send(1, { auth: { token, protocol: 1 } });
    send(2, { join_room: { roomName: confrId.room } });
    const wait = (rid) => new Promise((r) => { const t = setInterval(() => { if (replies[rid]) { clearInterval(t); r(replies[rid]); } }, 20); });
    const joined = await wait(2);
    const cid = joined.ok.joined.confrId;
    send(3, { publish: { confrId: cid, rtcId: 'x', streamType: 'camera', audio: true, video: true, sdp: 'v=0 this is not SDP' } });
    // A real offer that names only VP9, which the SFU does not forward.
    const pc = new RTCPeerConnection();
    const tr = pc.addTransceiver('video', { direction: 'sendonly' });
    tr.setCodecPreferences(RTCRtpReceiver.getCapabilities('video').codecs.filter((c) => /vp9/i.test(c.mimeType)));
    const vp9 = (await pc.createOffer()).sdp;
    pc.close();
    send(4, { publish: { confrId: cid, rtcId: 'y', streamType: 'camera', audio: false, video: true, sdp: vp9 } });
    send(5, { subscribe: { confrId: cid, streamId: 'Snope', sdp: 'v=0' } });
    send(6, { answer: { confrId: cid, sdp: 'v=0' } });
    send(7, { set_media: { confrId: cid, streamId: camId, aoff: true, voff: true } });
    const out = {};
    for (const rid of [3, 4, 5, 6, 7]) out[rid] = (await wait(rid)).err?.code ?? 0;
    send(8, { exit: { confrId: cid } });
    await wait(8);
    ws.close();
    return out;
  }, [{ room }, cam.id]);
  assert.deepEqual(codes, { 3: -200, 4: -520, 5: -554, 6: -501, 7: -101 });
  await expectFlowing(bob, cam.id);

  // Publishing the same rtcId twice is refused.
  assert.equal(await codeOf(alice, `window.mgr.pubStream({ audio: true, video: false, rtcId: ${JSON.stringify(cam.rtcId)} })`), -501);

  // Unpublish the screen: onStreamRemoved at Bob and Carol.
  await alice.evaluate((id) => window.mgr.unpubStream(id), screen.id);
  for (const page of [bob, carol]) await waitForHook(page, 'onStreamRemoved', `args[1].id === ${JSON.stringify(screen.id)}`);

  // Carol kicks Alice: Alice's camera is removed everywhere.
  await carol.evaluate(([cid]) => window.mgr.kickMembersById(cid, ['alice']), [c.confrId]);
  await waitForHook(alice, 'onConferenceExit', 'args[0] === 12');
  for (const page of [bob, carol]) await waitForHook(page, 'onStreamRemoved', `args[1].id === ${JSON.stringify(cam.id)}`);

  // Bob publishes in H264; Carol subscribes to its video only; then Carol demotes Bob:
  // his stream goes the same way.
  const bobCam = await bob.evaluate(async () => (await window.mgr.pubStream({ audio: true, video: true, videoCodec: 'h264' })).id);
  await waitForHook(carol, 'onStreamAdded', `args[1].id === ${JSON.stringify(bobCam)}`);
  assert.equal((await subscribe(carol, bobCam, { audio: false, video: true })).tracks, 1, 'a partial subscription');
  const h264 = await expectFlowing(carol, bobCam, { audio: false });
  assert.equal(h264.videoCodec, 'video/H264');
  assert.equal(h264.audioPackets, 0);
  await carol.evaluate(([cid]) => window.mgr.grantRole(cid, ['bob'], 1), [c.confrId]);
  await waitForHook(bob, 'onRoleChanged', 'args[0] === 1');
  await waitForHook(carol, 'onStreamRemoved', `args[1].id === ${JSON.stringify(bobCam)}`);
  await waitForHook(bob, 'onStreamRemoved', `args[1].id === ${JSON.stringify(bobCam)}`);

  // An AUDIENCE member's pubStream is refused and leaves no trace.
  assert.equal(await codeOf(bob, 'window.mgr.pubStream({ audio: true, video: true })'), -101);
  assert.equal((await serverStats()).streams, 0);

  // Everyone leaves: the server holds no peer connection and no stream.
  for (const page of [bob, carol]) await page.evaluate((cid) => window.mgr.exitConference(cid), c.confrId);
  await waitIdle();
});

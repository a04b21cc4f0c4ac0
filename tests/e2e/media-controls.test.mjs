// Local media controls through the built SDK: volume indication (own microphone and
// subscribed streams), muting remote audio on this page only, the device list,
// switching camera and microphone on a published stream, audio only, and bad input.
// Chromium runs with three fake cameras (`device-count=3`: fake_device_1 is a Y16 depth
// camera that no video encoder takes, so the switch goes to fake_device_2); its fake
// microphone beeps.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { launch } from './browser.mjs';
import { openMember, waitForHook, expectFlowing, inbound } from './page-sdk.mjs';

let browser;
before(async () => {
  browser = await launch({
    fakeDevices: 'device-count=3',
    args: ['--autoplay-policy=no-user-gesture-required'],
  });
});
after(async () => { await browser?.close(); });

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const codeOf = (page, expr) => page.evaluate(async (expr) => { try { await eval(expr); return 0; } catch (e) { return e.code ?? String(e); } }, expr);

/** Joins `room`; every onUserVoiceVolume list is kept in `window.volumes`. */
async function member(user, room) {
  const page = await openMember(browser, user);
  await page.evaluate((roomName) => {
    window.volumes = [];
    window.mgr.onUserVoiceVolume = (list) => window.volumes.push({ at: Date.now(), list });
    return window.mgr.joinRoom({ roomName });
  }, room);
  return page;
}

/** Subscribes and plays the stream in an audio element, as an app would. */
const subscribeAndPlay = (page, id) => page.evaluate(async (id) => {
  const { stream } = await window.mgr.subStream(id);
  window.subs[id] = stream;
  const audio = new Audio();
  audio.srcObject = stream;
  await audio.play();
  (window.players ??= []).push(audio);
}, id);

/**
 * Waits until `count` readings in a row (taken after now) give `streamId` a volume
 * that `pred` accepts; returns them.
 */
async function volumes(page, streamId, pred, { count = 2, timeout = 15000 } = {}) {
  const since = await page.evaluate(() => Date.now());
  const start = Date.now();
  let seen = [];
  for (;;) {
    seen = await page.evaluate(([since, id]) => window.volumes
      .filter((v) => v.at > since)
      .map((v) => v.list.find((e) => e.streamId === id))
      .filter(Boolean), [since, streamId]);
    const tail = seen.slice(-count);
    if (tail.length === count && tail.every((e) => pred(e.volume))) return tail;
    if (Date.now() - start > timeout) {
      throw new Error(`volume of ${streamId}: ${JSON.stringify(seen.map((e) => e.volume))}`);
    }
    await sleep(100);
  }
}

test('volume of own and subscribed streams; muting remote audio on this page only', async () => {
  const room = `vol${Date.now()}`;
  const alice = await member('alice', room);
  const bob = await member('bob', room);
  const cam = await alice.evaluate(async () => (window.cam = await window.mgr.pubStream({ audio: true, video: false })).id);
  // A silent stream: a WebAudio destination with nothing connected.
  const quiet = await alice.evaluate(async () => {
    const ctx = new AudioContext();
    const dest = ctx.createMediaStreamDestination();
    return (await window.mgr.pubStream({ stream: dest.stream, rtcId: 'quiet' })).id;
  });
  for (const id of [cam, quiet]) {
    await waitForHook(bob, 'onStreamAdded', `args[1].id === ${JSON.stringify(id)}`);
    await subscribeAndPlay(bob, id);
  }
  for (const page of [alice, bob]) await page.evaluate(() => window.mgr.enableVolumeIndication(200));

  // The fake microphone is heard, by its publisher and by the subscriber; silence is 0.
  const own = await volumes(alice, cam, (v) => v > 20);
  assert.equal(own[0].userId, 'alice', 'a local entry carries the own user id');
  assert.equal((await volumes(bob, cam, (v) => v > 20))[0].userId, 'alice');
  await volumes(alice, quiet, (v) => v === 0);
  await volumes(bob, quiet, (v) => v <= 2);

  // Bob mutes Alice's microphone stream: his page plays silence and reports 0; Alice
  // still speaks, and Bob's other subscription is untouched.
  await bob.evaluate((id) => window.mgr.muteRemoteAudio(id, true), cam);
  assert.equal(await bob.evaluate((id) => window.subs[id].getAudioTracks()[0].enabled, cam), false);
  await volumes(bob, cam, (v) => v === 0, { count: 3 });
  await volumes(alice, cam, (v) => v > 20);
  assert.equal(await bob.evaluate((id) => window.subs[id].getAudioTracks()[0].enabled, quiet), true);
  await bob.evaluate((id) => window.mgr.muteRemoteAudio(id, false), cam);
  await volumes(bob, cam, (v) => v > 20);

  // muteAllRemoteAudio: every subscription, and a stream subscribed while it holds
  // starts muted; switched off, all play again.
  await bob.evaluate(() => window.mgr.muteAllRemoteAudio(true));
  const mic2 = await alice.evaluate(async () => (await window.mgr.pubStream({ audio: true, video: false, rtcId: 'mic2' })).id);
  await waitForHook(bob, 'onStreamAdded', `args[1].id === ${JSON.stringify(mic2)}`);
  await subscribeAndPlay(bob, mic2);
  assert.deepEqual(
    await bob.evaluate((ids) => ids.map((id) => window.subs[id].getAudioTracks()[0].enabled), [cam, quiet, mic2]),
    [false, false, false],
  );
  await volumes(bob, mic2, (v) => v === 0, { count: 3 });
  await volumes(bob, cam, (v) => v === 0);
  await bob.evaluate(() => window.mgr.muteAllRemoteAudio(false));
  await volumes(bob, mic2, (v) => v > 20);
  await volumes(bob, cam, (v) => v > 20);

  // Switched off: no more readings.
  await bob.evaluate(() => window.mgr.enableVolumeIndication(0));
  await sleep(300);
  const count = await bob.evaluate(() => window.volumes.length);
  await sleep(800);
  assert.equal(await bob.evaluate(() => window.volumes.length), count);

  // Bad input: a clear code each, and the SDK keeps working.
  assert.equal(await codeOf(bob, 'window.mgr.muteRemoteAudio("Snope", true)'), -554);
  assert.equal(await codeOf(bob, 'window.mgr.muteRemoteAudio(undefined, true)'), -200);
  assert.equal(await codeOf(bob, 'window.mgr.enableVolumeIndication("often")'), -200);
  assert.equal(await codeOf(alice, `window.mgr.muteRemoteAudio(${JSON.stringify(cam)}, true)`), -554, 'not subscribed: her own stream');
  await volumes(alice, cam, (v) => v > 20);
  for (const page of [alice, bob]) await page.close();
});

test('devices: list, change camera and microphone, audio only, device changes', async () => {
  const room = `dev${Date.now()}`;
  const alice = await member('alice', room);
  const bob = await member('bob', room);

  const devices = await alice.evaluate(() => window.mgr.mediaDevices());
  const cameras = devices.filter((d) => d.kind === 'videoinput');
  const mics = devices.filter((d) => d.kind === 'audioinput');
  assert.ok(cameras.length >= 3, `three fake cameras: ${JSON.stringify(devices)}`);
  assert.ok(mics.length >= 1);
  assert.ok(devices.every((d) => ['videoinput', 'audioinput'].includes(d.kind)), 'no outputs');
  assert.deepEqual(Object.keys(devices[0]).sort(), ['deviceId', 'groupId', 'kind', 'label']);

  const cam = await alice.evaluate(async () => (window.cam = await window.mgr.pubStream({ audio: true, video: true })).id);
  await waitForHook(bob, 'onStreamAdded', `args[1].id === ${JSON.stringify(cam)}`);
  await subscribeAndPlay(bob, cam);
  await expectFlowing(bob, cam);
  const firstLabel = await alice.evaluate(() => window.cam.stream.getVideoTracks()[0].label);

  // Another camera: same stream id, no new subscription, frames keep rising at Bob;
  // Alice's local stream shows the new camera and the old one is stopped.
  const other = cameras.find((c) => c.label === 'fake_device_2');
  assert.notEqual(other.label, firstLabel);
  const before = await alice.evaluate(() => { window.oldVideo = window.cam.stream.getVideoTracks()[0]; return window.cam.stream.getTracks().length; });
  await alice.evaluate(([id, dev]) => window.mgr.changeCamera(id, dev), [cam, other.deviceId]);
  assert.deepEqual(
    await alice.evaluate(() => [window.cam.stream.getVideoTracks()[0].label, window.oldVideo.readyState, window.cam.stream.getTracks().length]),
    [other.label, 'ended', before],
  );
  const subs = await bob.evaluate(() => Object.keys(window.subs).length);
  await expectFlowing(bob, cam);
  assert.equal(await bob.evaluate(() => Object.keys(window.subs).length), subs);

  // Another microphone: audio keeps arriving.
  await alice.evaluate(([id, dev]) => window.mgr.changeMicrophone(id, dev), [cam, mics[mics.length - 1].deviceId]);
  assert.equal(await alice.evaluate(() => window.cam.stream.getAudioTracks()[0].readyState), 'live');
  await expectFlowing(bob, cam);

  // Audio only: Bob sees voff, the frames stop, the audio goes on; Alice's camera is off.
  await alice.evaluate((id) => { window.oldVideo = window.cam.stream.getVideoTracks()[0]; return window.mgr.switchToAudio(id); }, cam);
  await waitForHook(bob, 'onMediaChanaged', `args[0].id === ${JSON.stringify(cam)} && args[0].voff === 1`);
  assert.deepEqual(
    await alice.evaluate(() => [window.oldVideo.readyState, window.cam.stream.getVideoTracks().length]),
    ['ended', 0],
  );
  await sleep(1000);
  const stopped = await inbound(bob, cam);
  await sleep(1500);
  const later = await inbound(bob, cam);
  assert.ok(later.framesDecoded - stopped.framesDecoded <= 1, `frames still rising: ${stopped.framesDecoded} -> ${later.framesDecoded}`);
  assert.ok(later.audioPackets > stopped.audioPackets, 'audio goes on');
  assert.equal(await codeOf(alice, `window.mgr.resumeVideo(${JSON.stringify(cam)})`), -200, 'no video to resume');
  // A camera again: video flows and Bob sees voff 0.
  await alice.evaluate(([id, dev]) => window.mgr.changeCamera(id, dev), [cam, cameras[0].deviceId]);
  await waitForHook(bob, 'onMediaChanaged', `args[0].id === ${JSON.stringify(cam)} && args[0].voff === 0`);
  await expectFlowing(bob, cam);

  // onDeviceChanged when navigator.mediaDevices fires devicechange.
  await alice.evaluate(() => {
    window.deviceChanges = 0;
    window.mgr.onDeviceChanged = () => { window.deviceChanges += 1; };
    navigator.mediaDevices.dispatchEvent(new Event('devicechange'));
  });
  assert.equal(await alice.evaluate(() => window.deviceChanges), 1);

  // Bad input: a clear code each, no state change.
  const bobMic = await bob.evaluate(async () => (await window.mgr.pubStream({ audio: true, video: false })).id);
  await waitForHook(alice, 'onStreamAdded', `args[1].id === ${JSON.stringify(bobMic)}`);
  const id = JSON.stringify(cam);
  const codes = {
    unknownStream: await codeOf(alice, `window.mgr.changeCamera("Snope", ${JSON.stringify(cameras[0].deviceId)})`),
    unknownDevice: await codeOf(alice, `window.mgr.changeCamera(${id}, "no-such-camera")`),
    unknownMic: await codeOf(alice, `window.mgr.changeMicrophone(${id}, "no-such-mic")`),
    noDevice: await codeOf(alice, `window.mgr.changeCamera(${id})`),
    notMine: await codeOf(alice, `window.mgr.changeCamera(${JSON.stringify(bobMic)}, ${JSON.stringify(cameras[0].deviceId)})`),
    noVideo: await codeOf(bob, `window.mgr.changeCamera(${JSON.stringify(bobMic)}, ${JSON.stringify(cameras[0].deviceId)})`),
    switchUnknown: await codeOf(alice, 'window.mgr.switchToAudio("Snope")'),
    switchNotMine: await codeOf(alice, `window.mgr.switchToAudio(${JSON.stringify(bobMic)})`),
  };
  assert.deepEqual(codes, {
    unknownStream: -554, unknownDevice: -200, unknownMic: -200, noDevice: -200,
    notMine: -101, noVideo: -200, switchUnknown: -554, switchNotMine: -101,
  });
  await expectFlowing(bob, cam);
  for (const page of [alice, bob]) await page.close();
});

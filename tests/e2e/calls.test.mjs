// Calls and presence through the built SDK, against the real server: a 1:1 video call
// with media both ways, a busy callee, no answer, a cancelled call, a group call of
// four, invitations into a running conference with every status, presence as all of
// this happens, and bad input refused with its code (and reported to onError).
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { launch } from './browser.mjs';
import { openMember, expectFlowing } from './page-sdk.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

const CALL_HOOKS = ['onUserStatusChanged', 'onInvited', 'onUserEnter', 'onReject', 'onLineBusy', 'onNoResp',
  'onUserLeave', 'onCallingCancel', 'onCallEnd', 'onGroupCallInviteeListUpdate', 'onInviteStatus', 'onError'];

// Users are named per run: presence is per user, and the dev server is shared.
const run = Math.floor(Math.random() * 1e9).toString(36);
const name = (n) => `${n}_${run}`;

/** A logged-in page that records the call hooks too; resolves once its session is up. */
async function user(n) {
  const page = await openMember(browser, name(n));
  await page.evaluate((hooks) => {
    for (const hook of hooks) {
      window.mgr[hook] = (...args) => window.log.push({ name: hook, args: JSON.parse(JSON.stringify(args)) });
    }
  }, CALL_HOOKS);
  // A round trip on the new socket: the login before it is done, the user online.
  assert.equal(await page.evaluate(() => window.mgr.isBusy()), false);
  return page;
}

/** The page's hook log length: a mark to wait for entries after. */
const mark = (page) => page.evaluate(() => window.log.length);

/** Waits for a `name` hook entry after `since` whose args pass `pred` (source run in the page). */
async function hook(page, name, pred = 'true', { since = 0, timeout = 20000 } = {}) {
  const h = await page.waitForFunction(
    ([name, pred, since]) => {
      const f = new Function('args', `return ${pred};`);
      return window.log.slice(since).find((e) => e.name === name && f(e.args));
    },
    [name, pred, since],
    { timeout, polling: 50 },
  );
  return (await h.jsonValue()).args;
}

const count = (page, name, pred = 'true') => page.evaluate(([name, pred]) => {
  const f = new Function('args', `return ${pred};`);
  return window.log.filter((e) => e.name === name && f(e.args)).length;
}, [name, pred]);

/** Runs `expr` in the page; resolves the code it rejects with (0 if it resolves). */
const codeOf = (page, expr, arg) => page.evaluate(async ([expr, arg]) => {
  try { await (new Function('arg', `return ${expr};`))(arg); return 0; } catch (e) { return e.code; }
}, [expr, arg]);

const is = (user) => `args[0] === ${JSON.stringify(name(user))}`;
const statusIs = (user, status) => `args[0].userId === ${JSON.stringify(name(user))} && args[0].status === ${status}`;

async function statusOf(page, users) {
  const list = await page.evaluate((ids) => window.mgr.getUserStatus(ids), users.map(name));
  return Object.fromEntries(list.map((s) => [s.userId.replace(`_${run}`, ''), s.status]));
}

/** Publishes camera + microphone; resolves the stream id. */
const publish = (page, options) => page.evaluate(async (options) => {
  const p = await window.mgr.pubStream(options);
  window.cams = [...(window.cams ?? []), p];
  return { id: p.id, audio: p.stream.getAudioTracks().length, video: p.stream.getVideoTracks().length };
}, options);

async function subscribeTo(page, streamId, since) {
  await hook(page, 'onStreamAdded', `args[1].id === ${JSON.stringify(streamId)}`, { since });
  await page.evaluate((id) => window.mgr.subStream(id), streamId);
}

test('a 1:1 video call, a busy callee, presence, and bad input', async () => {
  const [watcher, alice, bob, carol] = await Promise.all(['watcher', 'alice', 'bob', 'carol'].map(user));
  await watcher.evaluate(() => window.mgr.startUserStatusNotify());
  assert.deepEqual(await statusOf(watcher, ['alice', 'bob', 'nobody']), { alice: 1, bob: 1, nobody: 0 });

  // Alice calls Bob: she is in the call's conference at once, as its ADMIN; he rings.
  const call = await alice.evaluate((u) => window.mgr.call(u, { type: 'video', ext: { topic: 'x' } }), name('bob'));
  assert.ok(call.callId && call.confrId);
  assert.equal(call.conference.confrId, call.confrId);
  assert.equal(call.conference.role, 7);
  const [inv] = await hook(bob, 'onInvited', `args[0].callId === ${JSON.stringify(call.callId)}`);
  assert.deepEqual(
    [inv.confrId, inv.sponsor, inv.isFromGroup, inv.callType, inv.ext],
    [call.confrId, name('alice'), false, 'video', { topic: 'x' }],
  );
  assert.ok(inv.userIdList.includes(name('bob')));
  await hook(watcher, 'onUserStatusChanged', statusIs('bob', 2));
  assert.deepEqual(await statusOf(watcher, ['alice', 'bob']), { alice: 2, bob: 2 });
  assert.equal(await bob.evaluate(() => window.mgr.isBusy()), true, 'being rung is busy');

  // Bob accepts: a join like any other; each sees the other enter.
  const bobMark = await mark(bob);
  const aliceMark = await mark(alice);
  const joined = await bob.evaluate((id) => window.mgr.accept(id), call.callId);
  assert.equal(joined.confrId, call.confrId);
  assert.equal(joined.role, 3);
  await hook(alice, 'onUserEnter', `${is('bob')} && args[1] === ${JSON.stringify(call.callId)}`, { since: aliceMark });
  await hook(alice, 'onMemberJoined', `args[0].name === ${JSON.stringify(name('bob'))}`, { since: aliceMark });
  await hook(bob, 'onMemberJoined', `args[0].name === ${JSON.stringify(name('alice'))}`, { since: bobMark });

  // Accepting twice: -603, to the promise and to onError.
  assert.equal(await codeOf(bob, 'window.mgr.accept(arg)', call.callId), -603);
  const [, why] = await hook(bob, 'onError', 'args[0] === -603');
  assert.equal(typeof why, 'string');

  // Both publish (a video call: camera and microphone), each sees the other's frames.
  const aCam = await publish(alice, {});
  const bCam = await publish(bob, {});
  assert.deepEqual([aCam.audio, aCam.video, bCam.audio, bCam.video], [1, 1, 1, 1]);
  await subscribeTo(bob, aCam.id, bobMark);
  await subscribeTo(alice, bCam.id, aliceMark);
  await Promise.all([expectFlowing(bob, aCam.id), expectFlowing(alice, bCam.id)]);

  // Carol calls Bob during the call: busy, at once, and Bob never rings again.
  const carolCall = await carol.evaluate((u) => window.mgr.call(u), name('bob'));
  await hook(carol, 'onLineBusy', `${is('bob')} && args[1] === ${JSON.stringify(carolCall.callId)}`);
  await hook(carol, 'onCallEnd', `args[0] === ${JSON.stringify(carolCall.callId)}`);
  const [reason] = await hook(carol, 'onConferenceExit', `args[2] === ${JSON.stringify(carolCall.confrId)}`);
  assert.equal(reason, 3, 'peer busy');

  // Hanging up a call you are not in: -604.
  assert.equal(await codeOf(carol, 'window.mgr.hangup(arg)', call.callId), -604);
  await hook(carol, 'onError', 'args[0] === -604');

  // A plain conference is status 3.
  await carol.evaluate((room) => window.mgr.joinRoom({ roomName: room }), `calls-room-${run}`);
  await hook(watcher, 'onUserStatusChanged', statusIs('carol', 3));

  // Alice hangs up: she leaves (one onConferenceExit), Bob hears her leave, is alone,
  // and the call ends for him too.
  await alice.evaluate((id) => window.mgr.hangup(id), call.callId);
  await hook(alice, 'onConferenceExit', `args[0] === 0 && args[2] === ${JSON.stringify(call.confrId)}`);
  await hook(bob, 'onUserLeave', `${is('alice')} && args[1] === ${JSON.stringify(call.callId)}`, { since: bobMark });
  await hook(bob, 'onCallEnd', `args[0] === ${JSON.stringify(call.callId)}`);
  await hook(bob, 'onConferenceExit', `args[0] === 0 && args[2] === ${JSON.stringify(call.confrId)}`);
  await hook(watcher, 'onUserStatusChanged', statusIs('alice', 1));
  await hook(watcher, 'onUserStatusChanged', statusIs('bob', 1));
  assert.equal(await bob.evaluate(() => window.mgr.isBusy()), false);
  assert.deepEqual(await statusOf(carol, ['alice', 'bob', 'carol']), { alice: 1, bob: 1, carol: 3 });
  assert.equal(await count(alice, 'onConferenceExit', `args[2] === ${JSON.stringify(call.confrId)}`), 1);
  assert.equal(await count(bob, 'onInvited'), 1, 'the busy call never rang Bob');
  // The call's media is gone with it.
  assert.equal(await alice.evaluate(() => window.cams[0].stream.getTracks().every((t) => t.readyState === 'ended')), true);

  // Calling yourself (-200) and an offline user (-601); both also reach onError.
  assert.equal(await codeOf(alice, 'window.mgr.call(arg)', name('alice')), -200);
  await hook(alice, 'onError', 'args[0] === -200');
  assert.equal(await codeOf(alice, 'window.mgr.call(arg)', name('nobody')), -601);
  await hook(alice, 'onError', 'args[0] === -601 && typeof args[1] === "string"');
  assert.equal(await codeOf(alice, 'window.mgr.call(arg, { type: "fax" })', name('bob')), -200);
  assert.equal(await alice.evaluate(() => window.mgr.isBusy()), false, 'no call was created');

  // Do not disturb: callers hear busy, and presence shows it.
  await bob.evaluate(() => window.mgr.setDNDStatus(1));
  await hook(watcher, 'onUserStatusChanged', `${statusIs('bob', 1)} && args[0].dnd === true`);
  const dndCall = await alice.evaluate((u) => window.mgr.call(u), name('bob'));
  await hook(alice, 'onLineBusy', `${is('bob')} && args[1] === ${JSON.stringify(dndCall.callId)}`);
  await bob.evaluate(() => window.mgr.setDNDStatus(0));

  // Logging out: offline at once.
  await carol.evaluate(() => window.mgr.logout());
  await hook(carol, 'onConferenceExit', 'args[0] === 0');
  await hook(watcher, 'onUserStatusChanged', statusIs('carol', 0));
  assert.deepEqual(await statusOf(watcher, ['carol']), { carol: 0 });
  assert.equal(await codeOf(carol, 'window.mgr.getUserStatus()'), -100, 'logged out: no identity');

  await watcher.evaluate(() => window.mgr.stopUserStatusNotify());
  for (const p of [watcher, alice, bob, carol]) await p.context().close();
});

test('no answer, a cancelled call, and accepting a cancelled call', async () => {
  const [dave, erin, frank, grace] = await Promise.all(['dave', 'erin', 'frank', 'grace'].map(user));

  // Dave calls Erin, who never answers: no response after the (shortened) timeout.
  const call = await dave.evaluate((u) => window.mgr.call(u, { type: 'audio', timeout: 1.5 }), name('erin'));
  const [inv] = await hook(erin, 'onInvited', `args[0].callId === ${JSON.stringify(call.callId)}`);
  assert.equal(inv.callType, 'audio');
  const [, code, callId] = await hook(dave, 'onNoResp', is('erin'));
  assert.deepEqual([code, callId], [0, call.callId]);
  await hook(dave, 'onCallEnd', `args[0] === ${JSON.stringify(call.callId)}`);
  const [reason] = await hook(dave, 'onConferenceExit', `args[2] === ${JSON.stringify(call.confrId)}`);
  assert.equal(reason, 1, 'no response');
  assert.equal(await codeOf(erin, 'window.mgr.accept(arg)', call.callId), -602, 'expired');

  // Frank calls Grace and hangs up before she answers: she hears it was cancelled.
  const fcall = await frank.evaluate((u) => window.mgr.call(u), name('grace'));
  await hook(grace, 'onInvited', `args[0].callId === ${JSON.stringify(fcall.callId)}`);
  await frank.evaluate((id) => window.mgr.hangup(id), fcall.callId);
  await hook(grace, 'onCallingCancel', `${is('frank')} && args[1] === ${JSON.stringify(fcall.callId)}`);
  await hook(frank, 'onConferenceExit', `args[0] === 0 && args[2] === ${JSON.stringify(fcall.confrId)}`);
  assert.equal(await count(frank, 'onConferenceExit'), 1);
  assert.equal(await codeOf(grace, 'window.mgr.accept(arg)', fcall.callId), -602, 'cancelled');
  await hook(grace, 'onError', 'args[0] === -602');
  assert.equal(await grace.evaluate(() => window.mgr.isBusy()), false);

  for (const p of [dave, erin, frank, grace]) await p.context().close();
});

test('a group call of four: one rejects, one does not answer, one joins later', async () => {
  const [henry, ivy, jack, kate] = await Promise.all(['henry', 'ivy', 'jack', 'kate'].map(user));

  const call = await henry.evaluate((us) => window.mgr.groupCall(us, { type: 'audio', timeout: 60 }), [name('ivy'), name('kate')]);
  for (const page of [ivy, kate]) {
    const [inv] = await hook(page, 'onInvited', `args[0].callId === ${JSON.stringify(call.callId)}`);
    assert.deepEqual([inv.isFromGroup, inv.callType, inv.sponsor], [true, 'audio', name('henry')]);
  }

  // Ivy rejects.
  await ivy.evaluate((id) => window.mgr.reject(id), call.callId);
  await hook(henry, 'onReject', `${is('ivy')} && args[1] === ${JSON.stringify(call.callId)}`);

  // Jack is rung into the running call, with a short timeout, and does not answer.
  const more = await henry.evaluate(([us, callId]) => window.mgr.groupCall(us, { callId, timeout: 1.5 }), [[name('jack')], call.callId]);
  assert.deepEqual([more.callId, more.confrId, more.conference], [call.callId, call.confrId, undefined]);
  const [list, listCall] = await hook(henry, 'onGroupCallInviteeListUpdate', `args[0].includes(${JSON.stringify(name('jack'))})`);
  assert.equal(listCall, call.callId);
  assert.ok(list.includes(name('kate')));
  const [jinv] = await hook(jack, 'onInvited', `args[0].callId === ${JSON.stringify(call.callId)}`);
  assert.equal(jinv.callType, 'audio');
  await hook(henry, 'onNoResp', `${is('jack')} && args[1] === 0`);

  // Kate, still ringing, accepts after both outcomes and is in the call.
  const joined = await kate.evaluate((id) => window.mgr.accept(id), call.callId);
  assert.equal(joined.confrId, call.confrId);
  await hook(henry, 'onUserEnter', is('kate'));
  await hook(kate, 'onMemberJoined', `args[0].name === ${JSON.stringify(name('henry'))}`);

  // An audio call: the SDK's own capture publishes audio only unless asked for video.
  const kcam = await publish(kate, {});
  assert.deepEqual([kcam.audio, kcam.video], [1, 0]);
  const [, added] = await hook(henry, 'onStreamAdded', `args[1].id === ${JSON.stringify(kcam.id)}`);
  assert.deepEqual([added.aoff, added.voff], [0, 1]);
  const hcam = await publish(henry, { video: true });
  assert.deepEqual([hcam.audio, hcam.video], [1, 1], 'video when asked for');

  // Kate hangs up: Henry is alone with nobody ringing, and the call ends.
  await kate.evaluate((id) => window.mgr.hangup(id), call.callId);
  await hook(henry, 'onUserLeave', is('kate'));
  await hook(henry, 'onCallEnd', `args[0] === ${JSON.stringify(call.callId)}`);
  await hook(henry, 'onConferenceExit', `args[0] === 0 && args[2] === ${JSON.stringify(call.confrId)}`);
  await hook(kate, 'onConferenceExit', `args[0] === 0 && args[2] === ${JSON.stringify(call.confrId)}`);
  assert.equal(await count(kate, 'onConferenceExit'), 1);

  for (const p of [henry, ivy, jack, kate]) await p.context().close();
});

test('invitations into a running conference: ringing, accepted, rejected, no answer, hung up', async () => {
  const [mia, nick, olive, paul, quinn] = await Promise.all(['mia', 'nick', 'olive', 'paul', 'quinn'].map(user));
  const room = await mia.evaluate((roomName) => window.mgr.joinRoom({ roomName }), `invite-room-${run}`);
  const invite = (to, ext, timeout) => mia.evaluate(([c, u, e, t]) => window.mgr.inviteToConference(c, u, e, t), [room.confrId, name(to), ext, timeout]);
  const status = (id, s) => hook(mia, 'onInviteStatus', `args[0] === ${JSON.stringify(id)} && args[1] === ${s}`);

  // Accepted: Nick joins the conference.
  const toNick = await invite('nick', { why: 'standup' });
  assert.equal(typeof toNick, 'string');
  await status(toNick, 0);
  const [inv] = await hook(nick, 'onInvited', `args[0].callId === ${JSON.stringify(toNick)}`);
  assert.deepEqual([inv.confrId, inv.sponsor, inv.ext], [room.confrId, name('mia'), { why: 'standup' }]);
  const joined = await nick.evaluate((id) => window.mgr.accept(id), toNick);
  assert.equal(joined.confrId, room.confrId);
  await status(toNick, 1);
  await hook(mia, 'onMemberJoined', `args[0].name === ${JSON.stringify(name('nick'))}`);

  // Rejected.
  const toOlive = await invite('olive');
  await hook(olive, 'onInvited', `args[0].callId === ${JSON.stringify(toOlive)}`);
  await olive.evaluate((id) => window.mgr.reject(id), toOlive);
  await status(toOlive, 2);

  // No answer within its timeout.
  const toPaul = await invite('paul', null, 1.5);
  await hook(paul, 'onInvited', `args[0].callId === ${JSON.stringify(toPaul)}`);
  await status(toPaul, 3);

  // Hung up by the inviter: Quinn's ringing is cancelled.
  const toQuinn = await invite('quinn');
  await hook(quinn, 'onInvited', `args[0].callId === ${JSON.stringify(toQuinn)}`);
  await mia.evaluate((id) => window.mgr.cancelInvite(id), toQuinn);
  await status(toQuinn, 4);
  await hook(quinn, 'onCallingCancel', `${is('mia')} && args[1] === ${JSON.stringify(toQuinn)}`);

  // Only an ADMIN or TALKER of the conference may invite: not a non-member (-504),
  // not an AUDIENCE member (-101).
  const inviteAs = (page) => codeOf(page, 'window.mgr.inviteToConference(arg[0], arg[1])', [room.confrId, name('paul')]);
  assert.equal(await inviteAs(olive), -504);
  await olive.evaluate((roomName) => window.mgr.joinRoom({ roomName }), `invite-room-${run}`);
  await mia.evaluate(([c, u]) => window.mgr.grantRole(c, [u], 1), [room.confrId, name('olive')]);
  await hook(olive, 'onRoleChanged', 'args[0] === 1');
  assert.equal(await inviteAs(olive), -101);
  await hook(olive, 'onError', 'args[0] === -101');
  assert.equal(await count(olive, 'onError'), 2, 'each failure reported once');

  for (const p of [mia, nick, olive, paul, quinn]) await p.context().close();
});

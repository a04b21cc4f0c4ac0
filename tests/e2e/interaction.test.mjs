// The in-conference interaction API through the built SDK, against the real server:
// room messages, commands and data between two users (a 20 MB file while a third
// member keeps being answered, a buffer, a cancelled transfer), requests to speak,
// an ADMIN's mutes, a cross-room PK with media flowing both ways, and room attributes
// and room information. Every scenario uses its own rooms and users.
import { test, after, afterEach, before } from 'node:test';
import assert from 'node:assert/strict';
import { launch } from './browser.mjs';
import { openMember, expectFlowing } from './page-sdk.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

// Users and rooms are named per run: the dev server is shared.
const run = Math.floor(Math.random() * 1e9).toString(36);
const name = (n) => `${n}_${run}`;
const roomOf = (n) => `${n}-${run}`;

// The hooks of this API. Their arguments may be functions (agree / refuse), Blobs or
// ArrayBuffers: the log keeps a JSON view of them (a Blob is `{blob: size}`, an
// ArrayBuffer `{arrayBuffer: byteLength}`, a function `'[function]'`) and the raw
// arguments in `window.raw[entry.ri]`.
const HOOKS = ['onRecvRoomTextMsg', 'onRecvRoomCustomMsg', 'onNotifyCmdData', 'onSendProgress',
  'onNotifyBufferData', 'onNotifyFileData', 'onNotifyCancelSend', 'onRequestToTalker',
  'onRequestToTalkerReply', 'onMuted', 'onUnmuted', 'onConfrAttrsUpdated', 'onRequestRoomPK',
  'onRequestRoomPKReply', 'onRoomPKStarted', 'onQuitRoomPK'];

const MiB = 1024 * 1024;
const opened = [];
afterEach(async () => {
  for (const page of opened.splice(0)) await page.context().close().catch(() => {});
});

/** A logged-in page for user `n` (see `name`) that records the hooks above too. */
async function member(n) {
  const page = await openMember(browser, name(n));
  opened.push(page);
  const missing = await page.evaluate((hooks) => {
    window.raw = [];
    // `window.tap[hook]`: also called with the raw arguments, after logging.
    window.tap = {};
    const plain = (v) => {
      if (typeof v === 'function') return '[function]';
      if (typeof v === 'bigint') return `${v}n`;
      if (v instanceof Blob) return { blob: v.size, type: v.type, fileName: v.name };
      if (v instanceof ArrayBuffer) return { arrayBuffer: v.byteLength };
      if (ArrayBuffer.isView(v)) return { view: v.constructor.name, byteLength: v.byteLength };
      if (v instanceof MediaStream) return null;
      return v;
    };
    const proto = Object.getPrototypeOf(window.mgr);
    const missing = hooks.filter((h) => !Object.getOwnPropertyDescriptor(proto, h));
    for (const hook of hooks) {
      window.mgr[hook] = (...args) => {
        window.raw.push(args);
        window.log.push({ name: hook, at: Date.now(), ri: window.raw.length - 1, args: JSON.parse(JSON.stringify(args.map(plain))) });
        window.tap[hook]?.(...args);
      };
    }
    window.hex = async (data) => Array.from(new Uint8Array(await crypto.subtle.digest('SHA-256', data)))
      .map((b) => b.toString(16).padStart(2, '0')).join('');
    window.randomBytes = (size) => {
      const out = new Uint8Array(size);
      for (let at = 0; at < size; at += 65536) crypto.getRandomValues(out.subarray(at, Math.min(size, at + 65536)));
      return out;
    };
    return missing;
  }, HOOKS);
  if (missing.length) console.error(`[${name(n)}] the SDK has no hook ${missing.join(', ')}`);
  page.user = name(n);
  return page;
}

/** Joins room `room` (see `roomOf`), as AUDIENCE when `role` is 1; resolves the join. */
const join = (page, room, role) => page.evaluate(([roomName, role]) => window.mgr.joinRoom(role ? { roomName, role } : { roomName }), [roomOf(room), role]);

/** The page's hook log length: a mark to look for entries after. */
const mark = (page) => page.evaluate(() => window.log.length);

/** The entries (with their index `i`) after `since` named `name` whose args pass `pred`. */
const entries = (page, name, pred = 'true', since = 0) => page.evaluate(([name, pred, since]) => {
  const f = new Function('args', `return ${pred};`);
  return window.log.map((e, i) => ({ ...e, i })).filter((e) => e.i >= since && e.name === name && f(e.args));
}, [name, pred, since]);

/** Waits for a `name` entry after `since` whose args pass `pred` (source run in the page). */
async function hook(page, name, pred = 'true', { since = 0, timeout = 20000 } = {}) {
  try {
    const h = await page.waitForFunction(([name, pred, since]) => {
      const f = new Function('args', `return ${pred};`);
      const i = window.log.findIndex((e, i) => i >= since && e.name === name && f(e.args));
      return i >= 0 ? { ...window.log[i], i } : null;
    }, [name, pred, since], { timeout, polling: 50 });
    return await h.jsonValue();
  } catch (e) {
    const seen = await page.evaluate((since) => window.log.slice(since).map((e) => `${e.name}${JSON.stringify(e.args)}`.slice(0, 300)), since).catch(() => []);
    throw new Error(`${page.user}: no ${name} with ${pred} (${e.message.split('\n')[0]}); hooks since: ${seen.join(' | ') || 'none'}`);
  }
}

/** Runs `expr` in the page (`arg` is passed in); resolves the code it rejects with, or
 * 'resolved'. */
const codeOf = (page, expr, arg) => page.evaluate(async ([expr, arg]) => {
  try { await (new Function('arg', `return ${expr};`))(arg); return 'resolved'; } catch (e) { return e?.code ?? String(e); }
}, [expr, arg]);

/** The user name of a member object as the hooks give it. */
const who = (m) => m?.name;
const WHO = '(m) => m?.name';
const whoIs = (arg, user) => `(${WHO})(${arg}) === ${JSON.stringify(user)}`;

test('room messages: every other member gets them all, in order, from the right sender', async () => {
  const [alice, bob, carol] = [await member('rm_alice'), await member('rm_bob'), await member('rm_carol')];
  const { confrId } = await join(alice, 'rm');
  await join(bob, 'rm');
  await join(carol, 'rm');

  // Twenty messages, text and custom interleaved, sent without waiting in between.
  const msgs = Array.from({ length: 20 }, (_, i) => (i % 3 === 2
    ? { kind: 'custom', cmd: `gift${i}`, msg: JSON.stringify({ n: i, what: '🎁' }) }
    : { kind: 'text', text: `m${i}: héllo 你好` }));
  const results = await alice.evaluate(async ([confrId, msgs]) => (await Promise.all(msgs.map((m) => (m.kind === 'text'
    ? window.mgr.sendRoomTextMsg(confrId, m.text)
    : window.mgr.sendRoomCustomMsg(confrId, m.cmd, m.msg))))).map((r) => r === undefined), [confrId, msgs]);
  assert.deepEqual(results, msgs.map(() => true), 'each send resolves undefined');

  // The limit is 4096 bytes: exactly that goes through, one byte more (also in
  // two-byte characters, and cmd + msg together) is refused and sends nothing.
  const full = 'x'.repeat(4096);
  assert.equal(await codeOf(alice, 'window.mgr.sendRoomTextMsg(arg[0], arg[1])', [confrId, full]), 'resolved');
  assert.equal(await codeOf(alice, 'window.mgr.sendRoomTextMsg(arg[0], arg[1])', [confrId, 'x'.repeat(4097)]), -701);
  assert.equal(await codeOf(alice, 'window.mgr.sendRoomTextMsg(arg[0], arg[1])', [confrId, 'é'.repeat(2049)]), -701);
  assert.equal(await codeOf(alice, 'window.mgr.sendRoomCustomMsg(arg[0], "c", arg[1])', [confrId, 'x'.repeat(4096)]), -701);

  // Bob's last word: once it reached Alice, anything of her own would have too.
  await bob.evaluate((confrId) => window.mgr.sendRoomTextMsg(confrId, 'done'), confrId);
  await hook(alice, 'onRecvRoomTextMsg', 'args[1] === "done"');
  await hook(carol, 'onRecvRoomTextMsg', 'args[1] === "done"');
  await hook(bob, 'onRecvRoomTextMsg', `args[1] === ${JSON.stringify(full)}`);

  const received = async (page) => (await page.evaluate(() => window.log.filter((e) => e.name === 'onRecvRoomTextMsg' || e.name === 'onRecvRoomCustomMsg')))
    .map(({ name, args }) => (name === 'onRecvRoomTextMsg'
      ? { from: who(args[0]), kind: 'text', text: args[1], confrId: args[2] }
      : { from: who(args[0]), kind: 'custom', cmd: args[1], msg: args[2], confrId: args[3] }));
  const fromAlice = [...msgs, { kind: 'text', text: full }].map((m) => ({ from: alice.user, ...m, confrId }));
  assert.deepEqual(await received(bob), fromAlice);
  assert.deepEqual(await received(carol), [...fromAlice, { from: bob.user, kind: 'text', text: 'done', confrId }]);
  assert.deepEqual(await received(alice), [{ from: bob.user, kind: 'text', text: 'done', confrId }], 'none of her own');
});

test('sendCmd: from one user to another; unknown users and oversized data refused', async () => {
  const [alice, bob, carol] = [await member('cmd_alice'), await member('cmd_bob'), await member('cmd_carol')];
  await join(alice, 'cmd');
  await join(bob, 'cmd');
  await join(carol, 'cmd-elsewhere');

  const ping = JSON.stringify({ op: 'ping', note: 'ünïcode ✓' });
  assert.equal(await codeOf(alice, 'window.mgr.sendCmd(arg[0], arg[1])', [bob.user, ping]), 'resolved');
  const got = await hook(bob, 'onNotifyCmdData', `args[1] === ${JSON.stringify(ping)}`);
  assert.equal(got.args[0], alice.user);
  await bob.evaluate((u) => window.mgr.sendCmd(u, 'pong'), alice.user);
  assert.equal((await hook(alice, 'onNotifyCmdData', 'args[1] === "pong"')).args[0], bob.user);

  // Unknown, and online but in no conference with Alice: -702. Over 4096 bytes: -701.
  assert.equal(await codeOf(alice, 'window.mgr.sendCmd(arg, "x")', name('cmd_ghost')), -702);
  assert.equal(await codeOf(alice, 'window.mgr.sendCmd(arg, "x")', carol.user), -702);
  assert.equal(await codeOf(alice, 'window.mgr.sendCmd(arg[0], arg[1])', [bob.user, 'y'.repeat(4097)]), -701);
  const full = 'y'.repeat(4096);
  assert.equal(await codeOf(alice, 'window.mgr.sendCmd(arg[0], arg[1])', [bob.user, full]), 'resolved');
  await hook(bob, 'onNotifyCmdData', `args[1] === ${JSON.stringify(full)}`);
  assert.deepEqual((await entries(bob, 'onNotifyCmdData')).map((e) => e.args), [[alice.user, ping], [alice.user, full]]);
  assert.equal((await entries(carol, 'onNotifyCmdData')).length, 0);
});

test('a 20 MB file arrives intact while another member keeps being answered; a buffer too', async () => {
  const [alice, bob, carol] = [await member('file_alice'), await member('file_bob'), await member('file_carol')];
  const { confrId } = await join(alice, 'file');
  await join(bob, 'file');
  await join(carol, 'file');

  const size = 20 * MiB;
  const sent = await alice.evaluate(async (size) => {
    const bytes = window.randomBytes(size);
    window.file = new File([bytes], 'big.bin');
    return { hash: await window.hex(bytes), size: window.file.size };
  }, size);
  assert.equal(sent.size, size);

  // Carol asks the server for room information, again and again (within the message
  // rate limit), from before the transfer starts until after it ended.
  await carol.evaluate((confrId) => {
    window.busy = { done: [], failed: [], stop: false };
    window.busy.loop = (async () => {
      for (let i = 0; !window.busy.stop; i += 1) {
        try {
          if (i % 2) await window.mgr.getRoomInfos([confrId]);
          else await window.mgr.getAnchorList(confrId);
          window.busy.done.push(Date.now());
        } catch (e) {
          window.busy.failed.push(e?.code ?? String(e));
        }
        await new Promise((r) => setTimeout(r, 25));
      }
    })();
  }, confrId);

  const taskId = await alice.evaluate((to) => window.mgr.sendFile(to, window.file), bob.user);
  assert.equal(typeof taskId, 'number');
  const got = await hook(bob, 'onNotifyFileData', `args[3] === ${taskId}`, { timeout: 120000 });
  assert.equal(got.args[0], alice.user);
  assert.equal(got.args[2], 'big.bin');
  assert.equal(got.args[1].blob, size, 'a Blob of the whole size');
  const hash = await bob.evaluate(async (ri) => {
    const blob = window.raw[ri][1];
    return blob instanceof Blob ? window.hex(await blob.arrayBuffer()) : `not a Blob: ${Object.prototype.toString.call(blob)}`;
  }, got.ri);
  assert.equal(hash, sent.hash, 'the bytes arrived as sent');

  // Alice's progress: rising to the whole size, in many steps.
  const last = await hook(alice, 'onSendProgress', `args[0] === ${taskId} && args[1] === ${size}`);
  await carol.evaluate(async () => { window.busy.stop = true; await window.busy.loop; });
  const progress = await entries(alice, 'onSendProgress', `args[0] === ${taskId}`);
  assert.ok(progress.length > 10, `${progress.length} progress events`);
  assert.ok(progress.every((p) => p.args[2] === size), 'totalBytes is the file size');
  assert.ok(progress.every((p, k) => k === 0 || p.args[1] >= progress[k - 1].args[1]), 'sentBytes never falls');
  assert.equal(progress.at(-1).args[1], size);
  assert.equal(progress.at(-1).i, last.i, 'nothing after the last byte');

  // Carol was answered all along, and several times while the transfer ran.
  const busy = await carol.evaluate(() => ({ done: window.busy.done, failed: window.busy.failed }));
  assert.deepEqual(busy.failed, []);
  const during = busy.done.filter((at) => at > progress[0].at && at < progress.at(-1).at).length;
  assert.ok(during >= 3, `${during} of Carol's ${busy.done.length} requests were answered between Alice's first and last progress`);

  // sendBuffer: about a megabyte, and a view into part of a larger buffer.
  const buf = await alice.evaluate(async (to) => {
    const data = window.randomBytes(1000000);
    const hash = await window.hex(data);
    const whole = window.randomBytes(5000);
    const part = whole.subarray(100, 1100);
    const partHash = await window.hex(part.slice());
    return { hash, partHash, task: await window.mgr.sendBuffer(to, data), partTask: await window.mgr.sendBuffer(to, part) };
  }, bob.user);
  assert.equal(typeof buf.task, 'number');
  for (const [task, bytes, hash] of [[buf.task, 1000000, buf.hash], [buf.partTask, 1000, buf.partHash]]) {
    const b = await hook(bob, 'onNotifyBufferData', `args[2] === ${task}`, { timeout: 60000 });
    assert.equal(b.args[0], alice.user);
    assert.deepEqual(b.args[1], { arrayBuffer: bytes }, 'an ArrayBuffer of the sent length');
    assert.equal(await bob.evaluate((ri) => window.hex(window.raw[ri][1]), b.ri), hash, 'the same bytes');
  }
  assert.equal((await entries(bob, 'onNotifyFileData')).length, 1);
});

test('cancelSend mid-transfer: the receiver hears it and gets nothing; later transfers work', async () => {
  const [alice, bob] = [await member('cancel_alice'), await member('cancel_bob')];
  await join(alice, 'cancel');
  await join(bob, 'cancel');
  const size = 20 * MiB;

  // Alice cancels at her first progress event, from the hook itself.
  const taskId = await alice.evaluate(async (to) => {
    window.tap.onSendProgress = (task) => {
      if (window.cancelled) return;
      window.cancelled = task;
      window.mgr.cancelSend(task).then(() => { window.cancelOutcome = 'resolved'; }, (e) => { window.cancelOutcome = e?.code ?? String(e); });
    };
    return window.mgr.sendFile(to, new File([window.randomBytes(20 * 1024 * 1024)], 'big.bin'));
  }, bob.user);
  const outcome = await (await alice.waitForFunction(() => window.cancelOutcome, null, { timeout: 60000 })).jsonValue();
  assert.equal(outcome, 'resolved');
  assert.equal(await alice.evaluate(() => window.cancelled), taskId);
  await hook(bob, 'onNotifyCancelSend', `args[0] === ${taskId}`);
  const progress = await entries(alice, 'onSendProgress', `args[0] === ${taskId}`);
  assert.ok(progress.every((p) => p.args[1] < size), 'it never completed');

  // Another transfer afterwards arrives whole; the cancelled one never does.
  const after = await alice.evaluate(async (to) => {
    const bytes = window.randomBytes(2 * 1024 * 1024);
    return { hash: await window.hex(bytes), task: await window.mgr.sendFile(to, new File([bytes], 'after.bin')) };
  }, bob.user);
  assert.notEqual(after.task, taskId);
  const got = await hook(bob, 'onNotifyFileData', `args[3] === ${after.task}`, { timeout: 60000 });
  assert.deepEqual([got.args[0], got.args[2], got.args[1].blob], [alice.user, 'after.bin', 2 * MiB]);
  assert.equal(await bob.evaluate(async (ri) => window.hex(await window.raw[ri][1].arrayBuffer()), got.ri), after.hash);
  await hook(alice, 'onSendProgress', `args[0] === ${after.task} && args[1] === ${2 * MiB}`);
  assert.deepEqual((await entries(bob, 'onNotifyFileData')).map((e) => e.args[3]), [after.task]);
  assert.equal((await entries(bob, 'onNotifyBufferData')).length, 0);
});

test('request to speak: the ADMIN agrees to one AUDIENCE member and refuses another', async () => {
  const [host, fan, shy] = [await member('talk_host'), await member('talk_fan'), await member('talk_shy')];
  const { confrId, role: hostRole } = await join(host, 'talk');
  assert.equal(hostRole, 7, 'the room\'s creator is its ADMIN');
  assert.equal((await join(fan, 'talk', 1)).role, 1);
  assert.equal((await join(shy, 'talk', 1)).role, 1);

  assert.equal(await codeOf(fan, 'window.mgr.requestToTalker(arg, "let me speak")', confrId), 'resolved');
  const asked = await hook(host, 'onRequestToTalker', whoIs('args[0]', fan.user));
  assert.deepEqual([asked.args[1], asked.args[2], asked.args[3], asked.args[4]], ['[function]', '[function]', 'let me speak', confrId]);
  const fanMark = await mark(fan);
  assert.equal(await codeOf(host, 'window.raw[arg][1]()', asked.ri), 'resolved', 'agree()');
  const reply = await hook(fan, 'onRequestToTalkerReply', 'args[0] === true', { since: fanMark });
  assert.equal(reply.args[1], confrId);
  const role = await hook(fan, 'onRoleChanged', 'args[0] === 3', { since: fanMark });
  assert.equal(role.args[1], confrId);
  assert.ok(role.i < reply.i, 'TALKER first, then the answer');
  // Answering the same request again: -706.
  assert.equal(await codeOf(host, 'window.raw[arg][2]()', asked.ri), -706);

  // The second asks and is refused: still AUDIENCE.
  const shyMark = await mark(shy);
  await shy.evaluate((c) => window.mgr.requestToTalker(c, 'me too'), confrId);
  const asked2 = await hook(host, 'onRequestToTalker', whoIs('args[0]', shy.user));
  assert.equal(asked2.args[3], 'me too');
  assert.equal(await codeOf(host, 'window.raw[arg][2]()', asked2.ri), 'resolved', 'refuse()');
  const no = await hook(shy, 'onRequestToTalkerReply', 'args[0] === false', { since: shyMark });
  assert.equal(no.args[1], confrId);
  assert.equal((await entries(shy, 'onRoleChanged')).length, 0, 'the role stays AUDIENCE');
  const lists = await host.evaluate(async (c) => ({
    anchors: (await window.mgr.getAnchorList(c)).map((m) => m.name).sort(),
    audience: (await window.mgr.getAudienceList(c)).map((m) => m.name),
  }), confrId);
  assert.deepEqual(lists, { anchors: [fan.user, host.user].sort(), audience: [shy.user] });
  assert.equal(await codeOf(shy, 'window.mgr.pubStream({ audio: true, video: false })'), -101);
});

test('admin mute: one member, everyone, later joiners; only an ADMIN may', async () => {
  const [admin, talker, late, fan] = [await member('mute_admin'), await member('mute_talker'), await member('mute_late'), await member('mute_fan')];
  const { confrId } = await join(admin, 'mute');
  assert.equal((await join(talker, 'mute')).role, 3);
  const mic = await talker.evaluate(async () => (window.mic = await window.mgr.pubStream({ audio: true, video: false })).id);
  await hook(admin, 'onStreamAdded', `args[1].id === ${JSON.stringify(mic)}`);
  const micEnabled = (page) => page.evaluate(() => window.mic.stream.getAudioTracks()[0].enabled);
  assert.equal(await micEnabled(talker), true);
  const aoff = (id, off) => `args[0].id === ${JSON.stringify(id)} && Boolean(args[0].aoff) === ${off}`;

  // One member.
  let t = await mark(talker);
  let a = await mark(admin);
  await admin.evaluate(([c, u]) => window.mgr.muteBymemberId(c, u), [confrId, talker.user]);
  assert.equal((await hook(talker, 'onMuted', 'true', { since: t })).args[0], confrId);
  assert.equal(await micEnabled(talker), false, 'the microphone track is disabled');
  await hook(admin, 'onMediaChanaged', aoff(mic, true), { since: a });
  assert.equal(await codeOf(talker, 'window.mgr.resumeAudio(arg)', mic), -101);
  assert.equal(await micEnabled(talker), false, 'still disabled');
  t = await mark(talker);
  a = await mark(admin);
  await admin.evaluate(([c, u]) => window.mgr.unmuteBymemberId(c, u), [confrId, talker.user]);
  assert.equal((await hook(talker, 'onUnmuted', 'true', { since: t })).args[0], confrId);
  assert.equal(await micEnabled(talker), true);
  await hook(admin, 'onMediaChanaged', aoff(mic, false), { since: a });

  // Only an ADMIN: a TALKER's and an AUDIENCE member's tries are refused.
  await join(fan, 'mute', 1);
  assert.equal(await codeOf(talker, 'window.mgr.muteAll(arg)', confrId), -101);
  assert.equal(await codeOf(fan, 'window.mgr.muteAll(arg)', confrId), -101);
  assert.equal(await codeOf(talker, 'window.mgr.muteBymemberId(arg[0], arg[1])', [confrId, fan.user]), -101);
  assert.equal(await micEnabled(talker), true);

  // Everyone: the TALKER is muted, the ADMIN is not; a member joining afterwards
  // starts muted, and what it publishes has its audio off.
  t = await mark(talker);
  a = await mark(admin);
  await admin.evaluate((c) => window.mgr.muteAll(c), confrId);
  await hook(talker, 'onMuted', 'true', { since: t });
  assert.equal(await micEnabled(talker), false);
  await hook(admin, 'onMediaChanaged', aoff(mic, true), { since: a });
  await join(late, 'mute');
  assert.equal((await hook(late, 'onMuted', 'true')).args[0], confrId, 'muted right after joining');
  const lateMic = await late.evaluate(async () => (window.mic = await window.mgr.pubStream({ audio: true, video: false })).id);
  assert.equal(await micEnabled(late), false);
  const added = await hook(admin, 'onStreamAdded', `args[1].id === ${JSON.stringify(lateMic)}`);
  assert.equal(Boolean(added.args[1].aoff), true);
  assert.equal(await codeOf(late, 'window.mgr.resumeAudio(arg)', lateMic), -101);
  assert.equal((await entries(admin, 'onMuted')).length, 0, 'the ADMIN is not muted');

  // Lifted for all.
  t = await mark(talker);
  const l = await mark(late);
  a = await mark(admin);
  await admin.evaluate((c) => window.mgr.unmuteAll(c), confrId);
  await hook(talker, 'onUnmuted', 'true', { since: t });
  await hook(late, 'onUnmuted', 'true', { since: l });
  assert.deepEqual([await micEnabled(talker), await micEnabled(late)], [true, true]);
  await hook(admin, 'onMediaChanaged', aoff(mic, false), { since: a });
  await hook(admin, 'onMediaChanaged', aoff(lateMic, false), { since: a });
});

test('a cross-room PK: each room sees and receives the other host; refusals and quitting', async () => {
  const [a1, v1, a2, v2] = [await member('pk_a1'), await member('pk_v1'), await member('pk_a2'), await member('pk_v2')];
  const r1 = (await join(a1, 'pk1')).confrId;
  const r2 = (await join(a2, 'pk2')).confrId;
  await join(v1, 'pk1', 1);
  await join(v2, 'pk2', 1);
  const cam1 = await a1.evaluate(async () => (await window.mgr.pubStream({ audio: true, video: true })).id);
  const cam2 = await a2.evaluate(async () => (await window.mgr.pubStream({ audio: true, video: true })).id);
  await hook(v1, 'onStreamAdded', `args[1].id === ${JSON.stringify(cam1)}`);
  await hook(v2, 'onStreamAdded', `args[1].id === ${JSON.stringify(cam2)}`);

  // Refused at once: with its own room, with a member who is no ADMIN there.
  const ask = (page, args) => codeOf(page, 'window.mgr.requestRoomPK(arg[0], arg[1], arg[2])', args);
  assert.equal(await ask(a1, [r1, r1, a1.user]), -200);
  assert.equal(await ask(a1, [r1, r2, v2.user]), -504);

  // Asked and refused.
  assert.equal(await ask(a1, [r1, r2, a2.user]), 'resolved');
  const first = await hook(a2, 'onRequestRoomPK', whoIs('args[0]', a1.user));
  assert.deepEqual(first.args.slice(1), [r1, '[function]', '[function]', r2]);
  await a2.evaluate((ri) => window.raw[ri][3](), first.ri);
  assert.deepEqual((await hook(a1, 'onRequestRoomPKReply', 'args[0] === false')).args, [false, r2, r1]);

  // Asked again and agreed: each audience member sees the other room's host stream
  // after the PK started, and receives its frames.
  const marks = { v1: await mark(v1), v2: await mark(v2) };
  assert.equal(await ask(a1, [r1, r2, a2.user]), 'resolved');
  const second = await hook(a2, 'onRequestRoomPK', whoIs('args[0]', a1.user), { since: first.i + 1 });
  assert.equal(await codeOf(a2, 'window.raw[arg][2]()', second.ri), 'resolved', 'agree()');
  assert.deepEqual((await hook(a1, 'onRequestRoomPKReply', 'args[0] === true')).args, [true, r2, r1]);
  for (const [page, own, other, foreign, host] of [[v1, r1, r2, cam2, a2], [v2, r2, r1, cam1, a1]]) {
    const since = marks[page === v1 ? 'v1' : 'v2'];
    const started = await hook(page, 'onRoomPKStarted', 'true', { since });
    assert.deepEqual(started.args, [own, other]);
    const added = await hook(page, 'onStreamAdded', `args[1].id === ${JSON.stringify(foreign)}`, { since });
    assert.ok(started.i < added.i, 'started first, then the stream');
    assert.equal(who(added.args[0]), host.user, 'the other room\'s host');
    await page.evaluate((id) => window.mgr.subStream(id), foreign);
  }
  await Promise.all([expectFlowing(v1, cam2), expectFlowing(v2, cam1)]);
  await hook(a1, 'onRoomPKStarted', `args[0] === ${JSON.stringify(r1)}`);
  await hook(a2, 'onRoomPKStarted', `args[0] === ${JSON.stringify(r2)}`);

  // A second PK while this one runs: -705, from either side.
  assert.equal(await ask(a1, [r1, r2, a2.user]), -705);
  assert.equal(await ask(a2, [r2, r1, a1.user]), -705);

  // Quitting: the foreign streams go, then both rooms hear the PK ended.
  await a1.evaluate((c) => window.mgr.quitRoomPK(c), r1);
  for (const [page, own, other, foreign] of [[v1, r1, r2, cam2], [v2, r2, r1, cam1]]) {
    const removed = await hook(page, 'onStreamRemoved', `args[1].id === ${JSON.stringify(foreign)}`);
    const quit = await hook(page, 'onQuitRoomPK', 'true');
    assert.deepEqual(quit.args, [own, other]);
    assert.ok(removed.i < quit.i, 'the streams go first');
  }
  await hook(a1, 'onQuitRoomPK', `args[0] === ${JSON.stringify(r1)}`);
  await hook(a2, 'onQuitRoomPK', `args[0] === ${JSON.stringify(r2)}`);
  // Each room's own host stream stays.
  assert.equal((await entries(v1, 'onStreamRemoved', `args[1].id === ${JSON.stringify(cam1)}`)).length, 0);
  assert.equal((await entries(v2, 'onStreamRemoved', `args[1].id === ${JSON.stringify(cam2)}`)).length, 0);
});

test('room attributes reach members and joiners; room infos, anchors and audience', async () => {
  const [admin, guest, late, fan] = [await member('attr_admin'), await member('attr_guest'), await member('attr_late'), await member('attr_fan')];
  const { confrId } = await join(admin, 'attr');
  await join(guest, 'attr');
  let g = await mark(guest);
  let a = await mark(admin);
  assert.equal(await codeOf(admin, 'window.mgr.setConferenceAttrs(arg, { key: "topic", val: "rust" })', confrId), 'resolved');
  assert.deepEqual((await hook(guest, 'onConfrAttrsUpdated', 'true', { since: g })).args, [{ topic: 'rust' }, confrId]);
  assert.deepEqual((await hook(admin, 'onConfrAttrsUpdated', 'true', { since: a })).args, [{ topic: 'rust' }, confrId]);

  // A joiner gets the current set right after joining, and in its join.
  const joined = await join(late, 'attr');
  assert.deepEqual(joined.attrs, { topic: 'rust' });
  assert.deepEqual((await hook(late, 'onConfrAttrsUpdated', 'true')).args, [{ topic: 'rust' }, confrId]);

  // Only an ADMIN sets or deletes them.
  await join(fan, 'attr', 1);
  assert.equal(await codeOf(fan, 'window.mgr.setConferenceAttrs(arg, { key: "topic", val: "go" })', confrId), -101);
  assert.equal(await codeOf(fan, 'window.mgr.deleteConferenceAttrs(arg, "topic")', confrId), -101);
  assert.equal(await codeOf(guest, 'window.mgr.setConferenceAttrs(arg, { key: "topic", val: "go" })', confrId), -101);

  // Room information: unknown ids are left out.
  const infos = await fan.evaluate((c) => window.mgr.getRoomInfos([c, 'nope']), confrId);
  assert.equal(infos.length, 1, JSON.stringify(infos));
  assert.deepEqual(
    [infos[0].confrId, infos[0].memberCount, infos[0].ownerName, infos[0].attrs],
    [confrId, 4, admin.user, { topic: 'rust' }],
  );
  assert.equal(typeof infos[0].type, 'number');
  const names = (list) => list.map(who).sort();
  const anchors = await fan.evaluate((c) => window.mgr.getAnchorList(c), confrId);
  assert.deepEqual(names(anchors), [admin.user, guest.user, late.user].sort());
  assert.deepEqual(names(await admin.evaluate((c) => window.mgr.getAudienceList(c), confrId)), [fan.user]);
  assert.equal(await codeOf(fan, 'window.mgr.getAudienceList(arg)', confrId), -101, 'ADMIN only');

  // Deleted: everyone gets the empty set.
  g = await mark(guest);
  const l = await mark(late);
  await admin.evaluate((c) => window.mgr.deleteConferenceAttrs(c, 'topic'), confrId);
  assert.deepEqual((await hook(guest, 'onConfrAttrsUpdated', 'true', { since: g })).args, [{}, confrId]);
  assert.deepEqual((await hook(late, 'onConfrAttrsUpdated', 'true', { since: l })).args, [{}, confrId]);
  assert.deepEqual((await fan.evaluate((c) => window.mgr.getRoomInfos([c]), confrId))[0].attrs, {});
});

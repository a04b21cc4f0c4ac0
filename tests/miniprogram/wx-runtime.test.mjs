// The packed npm package, require()d in a simulated WeChat mini-program runtime
// (see wx-runtime.mjs): create, join by ticket, joinRoom, grantRole and kick with
// their hooks, messages and data transfers over the socket's binary frames, against
// the real emedia-server.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MiniProgram } from './wx-runtime.mjs';

const here = fileURLToPath(new URL('.', import.meta.url));
const SERVER = process.env.EMEDIA_TEST_SERVER ?? 'http://127.0.0.1:8080';
const HOOKS = ['onMemberJoined', 'onMemberExited', 'onMemberRoleChanged', 'onRoleChanged',
  'onConferenceExit', 'onStreamAdded', 'onStreamRemoved'];
const programs = [];
// Objects made in the mini-program's realm: copy arrays out before deepEqual.
const names = (members) => Array.from(members, (m) => m.name);
let pkgDir;

before(() => {
  const pkg = join(here, '../../pkg');
  const tgz = execFileSync('npm', ['pack', '--silent', '--pack-destination', here], { cwd: pkg, encoding: 'utf8' })
    .trim().split('\n').pop();
  execFileSync('npm', ['install', '--no-save', '--no-audit', '--no-fund', '--loglevel=error', join(here, tgz)],
    { cwd: here, stdio: 'inherit' });
  pkgDir = join(here, 'node_modules/emedia-sdk');
});

after(() => programs.forEach((p) => p.dispose()));

/** One user in a mini-program of their own: the SDK required, configured and logged in. */
async function member(prefix, options) {
  const mp = new MiniProgram(pkgDir, options);
  programs.push(mp);
  const emedia = mp.require('emedia-sdk');
  emedia.config({ server: SERVER });
  await emedia.ready;
  const name = `${prefix}${Math.floor(Math.random() * 1e9)}`;
  const { token } = await (await fetch(`${SERVER}/dev/token?user=${name}`)).json();
  const mgr = emedia.mgr;
  mgr.setIdentity(name, token);
  const log = [];
  for (const hook of HOOKS) mgr[hook] = (...args) => log.push({ hook, args });
  /** Resolves with the first logged call of `hook` whose arguments pass `pred`. */
  const waitFor = async (hook, pred = () => true) => {
    for (let i = 0; i < 200; i++) {
      const hit = log.find((e) => e.hook === hook && pred(...e.args));
      if (hit) return hit.args;
      await new Promise((r) => setTimeout(r, 25));
    }
    throw new Error(`${name}: no ${hook} matching; saw ${JSON.stringify(log.map((e) => e.hook))}`);
  };
  return { mp, emedia, mgr, name, log, waitFor };
}

test('the runtime has no web or Node globals, only wx and WXWebAssembly', () => {
  const mp = new MiniProgram(pkgDir ?? here);
  programs.push(mp);
  const globals = mp.globals();
  for (const missing of ['window', 'document', 'fetch', 'WebSocket', 'WebAssembly', 'TextDecoder',
    'TextEncoder', 'process', 'require', 'queueMicrotask']) {
    assert.ok(!globals.includes(missing), `${missing} must not be a global`);
  }
  assert.ok(globals.includes('wx') && globals.includes('WXWebAssembly'));
});

test('require() of the package: create, join by ticket, joinRoom, grantRole and kick, with their hooks', async () => {
  const [a, b, c] = [await member('mpa'), await member('mpb'), await member('mpc')];
  assert.equal(a.emedia.miniProgram, true);
  assert.deepEqual(a.mp.wasmPaths, ['/miniprogram_npm/emedia-sdk/emedia_wasm_bg.wasm']);

  // Create, then everyone joins with a ticket.
  const conf = await a.mgr.createConference(a.mgr.ConfrType.COMMUNICATION, '1234');
  assert.equal(conf.type, 10);
  const joinedA = await a.mgr.joinConferenceWithTicket(conf.confrId, conf.ticket, { from: 'wx' });
  assert.equal(joinedA.role, a.mgr.Role.ADMIN);
  assert.match(a.mp.sockets[0].url, /^ws:\/\/127\.0\.0\.1:\d+\/ws$/);

  const ticketB = await b.mgr.getConferenceTkt(conf.confrId, '1234');
  const joinedB = await b.mgr.joinConferenceWithTicket(conf.confrId, ticketB);
  assert.equal(joinedB.role, b.mgr.Role.TALKER);
  assert.deepEqual(names(joinedB.members), [a.name]);
  const [seenB] = await a.waitFor('onMemberJoined', (m) => m.name === b.name);
  assert.equal(seenB.confrId, conf.confrId);

  const joinedC = await c.mgr.joinConferenceWithTicket(conf.confrId, await c.mgr.getConferenceTkt(conf.confrId, '1234'));
  assert.equal(joinedC.members.length, 2);
  await a.waitFor('onMemberJoined', (m) => m.name === c.name);
  await b.waitFor('onMemberJoined', (m) => m.name === c.name);

  // A wrong password is refused with a code, and the others carry on.
  await assert.rejects(b.mgr.getConferenceTkt(conf.confrId, 'nope'), (e) => typeof e.code === 'number' && e.code < 0);

  // grantRole: B becomes ADMIN; B hears it, A and C see the member change.
  await a.mgr.grantRole(conf.confrId, [b.name], a.mgr.Role.ADMIN);
  const [role, roleConfr] = await b.waitFor('onRoleChanged');
  assert.deepEqual([role, roleConfr], [7, conf.confrId]);
  await a.waitFor('onMemberRoleChanged', (m) => m.name === b.name && m.role === 7);
  await c.waitFor('onMemberRoleChanged', (m) => m.name === b.name && m.role === 7);

  // The new ADMIN kicks C: C's conference ends with reason 12, the others see C go.
  await b.mgr.kickMembersById(conf.confrId, [c.name]);
  const [reason, , exitConfr] = await c.waitFor('onConferenceExit');
  assert.deepEqual([reason, exitConfr], [12, conf.confrId]);
  await a.waitFor('onMemberExited', (m, why) => m.name === c.name && why === 12);
  await b.waitFor('onMemberExited', (m, why) => m.name === c.name && why === 12);

  // joinRoom: the first joiner creates the room and is its ADMIN; the next one joins it.
  const room = `wxroom${Date.now()}`;
  const roomA = await a.mgr.joinRoom({ roomName: room });
  assert.equal(roomA.created, true);
  assert.equal(roomA.role, 7);
  const roomC = await c.mgr.joinRoom({ roomName: room });
  assert.equal(roomC.created, false);
  assert.equal(roomC.confrId, roomA.confrId);
  assert.deepEqual(names(roomC.members), [a.name]);
  await a.waitFor('onMemberJoined', (m) => m.name === c.name && m.confrId === roomA.confrId);

  await a.mgr.exitConference(roomA.confrId);
  await c.waitFor('onMemberExited', (m, why) => m.name === a.name && why === 0);
  await a.mgr.destroyConference(conf.confrId);
  await b.waitFor('onConferenceExit', (why, _f, id) => why === 11 && id === conf.confrId);
});

test('outside development a mini-program refuses a plain ws:// server', async () => {
  const r = await member('mprel', { envVersion: 'release' });
  await assert.rejects(r.mgr.createConference(10), (e) => e.code === -9527);
  assert.equal(r.mp.sockets.length, 0, 'no connection was attempted');
});

test('the local media controls are browser features: -507 in a mini-program', async () => {
  const a = await member('mpctl');
  const code = async (p) => { try { await p; return 0; } catch (e) { return e.code; } };
  assert.deepEqual({
    muteRemoteAudio: await code(a.mgr.muteRemoteAudio('S1', true)),
    muteAllRemoteAudio: await code(a.mgr.muteAllRemoteAudio(true)),
    enableVolumeIndication: await code(a.mgr.enableVolumeIndication(500)),
    volumeOff: await code(a.mgr.enableVolumeIndication(0)),
    mediaDevices: await code(a.mgr.mediaDevices()),
    changeCamera: await code(a.mgr.changeCamera('S1', 'cam')),
    changeMicrophone: await code(a.mgr.changeMicrophone('S1', 'mic')),
    switchToAudio: await code(a.mgr.switchToAudio('S1')),
  }, {
    muteRemoteAudio: -507, muteAllRemoteAudio: -507, enableVolumeIndication: -507, volumeOff: 0,
    mediaDevices: -507, changeCamera: -507, changeMicrophone: -507, switchToAudio: -507,
  });
});

test('messages and data between mini-programs: sendCmd, sendBuffer with progress, sendFile of bytes', async () => {
  const [a, b] = [await member('mpda'), await member('mpdb')];
  const room = `wxdata${Date.now()}`;
  await a.mgr.joinRoom({ roomName: room });
  await b.mgr.joinRoom({ roomName: room });
  const got = [];
  b.mgr.onNotifyCmdData = (from, data) => got.push({ kind: 'cmd', from, data });
  b.mgr.onNotifyBufferData = (from, data, task) => got.push({ kind: 'buffer', from, data, task });
  b.mgr.onNotifyFileData = (from, data, name, task) => got.push({ kind: 'file', from, data, name, task });
  const progress = [];
  a.mgr.onSendProgress = (task, sent, total) => progress.push({ task, sent, total });
  const until = async (pred) => {
    for (let i = 0; i < 400 && !pred(); i++) await new Promise((r) => setTimeout(r, 25));
    assert.ok(pred(), `saw ${JSON.stringify(got.map((g) => g.kind))}`);
  };

  await a.mgr.sendCmd(b.name, 'hello');
  await until(() => got.some((g) => g.kind === 'cmd'));
  assert.deepEqual([got[0].from, got[0].data], [a.name, 'hello']);

  // Bytes of several chunks (the server's chunks are 60 KiB), from the page's realm.
  const bytes = a.mp.arrayBuffer(Buffer.from(Array.from({ length: 300_000 }, (_, i) => (i * 7) % 251)));
  const task = await a.mgr.sendBuffer(b.name, bytes);
  await until(() => got.some((g) => g.kind === 'buffer'));
  const buffer = got.find((g) => g.kind === 'buffer');
  assert.equal(buffer.from, a.name);
  assert.equal(buffer.task, task);
  assert.ok(Buffer.from(buffer.data).equals(Buffer.from(bytes)), 'the same bytes');
  // The last ack reaches the sender after the receiver has it all.
  await until(() => progress.some((p) => p.task === task && p.sent === p.total));
  const mine = progress.filter((p) => p.task === task);
  assert.ok(mine.length > 1 && mine.every((p, i) => i === 0 || p.sent >= mine[i - 1].sent), 'rising progress');
  assert.deepEqual(mine.at(-1), { task, sent: 300_000, total: 300_000 });

  // A mini-program has no Blob: a file is bytes and a name, and arrives as an ArrayBuffer.
  const file = a.mp.arrayBuffer(Buffer.from('a small file'));
  const fileTask = await a.mgr.sendFile(b.name, file, 'note.txt');
  await until(() => got.some((g) => g.kind === 'file'));
  const received = got.find((g) => g.kind === 'file');
  assert.deepEqual([received.from, received.name, received.task], [a.name, 'note.txt', fileTask]);
  assert.equal(Buffer.from(received.data).toString(), 'a small file');
});

// Mini-program media for real: emedia-server with RTMP URL templates, nginx with
// its rtmp module (config from tests/rtmp/), and ffmpeg as <live-pusher> and
// <live-player>. A pushed test pattern is announced, read back from the play URL,
// refused with a forged token, and removed when the push ends; onStateChange
// gives fresh URLs after a reported disconnect.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MiniProgram } from './wx-runtime.mjs';

const here = fileURLToPath(new URL('.', import.meta.url));
const root = join(here, '../..');
const children = [];
const programs = [];
let server;
let rtmpPort;
let dir;

function freePort() {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

function run(cmd, args, opts = {}) {
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], ...opts });
  children.push(child);
  child.output = '';
  child.stdout.on('data', (d) => (child.output += d));
  child.stderr.on('data', (d) => (child.output += d));
  child.exited = new Promise((r) => child.on('exit', (code) => r(code)));
  return child;
}

async function waitFor(what, check, tries = 300) {
  for (let i = 0; i < tries; i++) {
    const v = await check();
    if (v) return v;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

before(async () => {
  // The package as the other mini-program test installs it.
  const pkg = join(root, 'pkg');
  const tgz = execFileSync('npm', ['pack', '--silent', '--pack-destination', here], { cwd: pkg, encoding: 'utf8' })
    .trim().split('\n').pop();
  execFileSync('npm', ['install', '--no-save', '--no-audit', '--no-fund', '--loglevel=error', join(here, tgz)],
    { cwd: here, stdio: 'inherit' });

  rtmpPort = await freePort();
  const url = `rtmp://127.0.0.1:${rtmpPort}/live/{streamId}?token={token}`;
  const emedia = run(join(root, 'target/debug/emedia-server'), ['--listen', '127.0.0.1:0', '--demo-dir', join(root, 'demo'),
    '--pkg-dir', pkg, '--rtmp-push-url', url, '--rtmp-play-url', url]);
  server = await waitFor('emedia-server', () => emedia.output.match(/http:\/\/127\.0\.0\.1:\d+/)?.[0]);

  dir = mkdtempSync(join(tmpdir(), 'emedia-rtmp-'));
  const conf = readFileSync(join(root, 'tests/rtmp/nginx.conf.template'), 'utf8')
    .replaceAll('@DIR@', dir).replaceAll('@RTMP_PORT@', String(rtmpPort)).replaceAll('@SERVER@', server);
  writeFileSync(join(dir, 'nginx.conf'), conf);
  const nginx = run('nginx', ['-p', dir, '-c', join(dir, 'nginx.conf')]);
  await waitFor('nginx', () => new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(true)); // the port is taken: nginx listens
    s.listen(rtmpPort, '127.0.0.1', () => s.close(() => resolve(nginx.exitCode !== null)));
  }));
  assert.equal(nginx.exitCode, null, `nginx exited: ${nginx.output}${readFileSync(join(dir, 'error.log'), 'utf8')}`);
});

after(() => {
  programs.forEach((p) => p.dispose());
  for (const c of children) {
    c.kill('SIGKILL');
    c.stdout.destroy();
    c.stderr.destroy();
  }
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function member(prefix) {
  const mp = new MiniProgram(join(here, 'node_modules/emedia-sdk'));
  programs.push(mp);
  const emedia = mp.require('emedia-sdk');
  emedia.config({ server });
  await emedia.ready;
  const name = `${prefix}${Math.floor(Math.random() * 1e9)}`;
  const { token } = await (await fetch(`${server}/dev/token?user=${name}`)).json();
  emedia.mgr.setIdentity(name, token);
  const log = [];
  for (const hook of ['onStreamAdded', 'onStreamRemoved']) emedia.mgr[hook] = (...args) => log.push({ hook, args });
  const seen = (hook, id) => waitFor(`${name} ${hook} ${id}`, () => log.find((e) => e.hook === hook && e.args[1].id === id));
  return { mgr: emedia.mgr, name, seen };
}

/** ffmpeg as a live-pusher: a test pattern with a tone, H.264 + AAC in FLV. */
function push(url) {
  return run('ffmpeg', ['-hide_banner', '-nostdin', '-re', '-f', 'lavfi', '-i', 'testsrc=size=320x240:rate=15',
    '-f', 'lavfi', '-i', 'sine=frequency=440', '-t', '60', '-c:v', 'libx264', '-preset', 'ultrafast',
    '-tune', 'zerolatency', '-g', '15', '-c:a', 'aac', '-f', 'flv', url]);
}

/** ffmpeg as a live-player: decodes 15 video frames, or fails. */
async function play(url) {
  const p = run('ffmpeg', ['-hide_banner', '-nostdin', '-rw_timeout', '8000000', '-i', url, '-frames:v', '15', '-f', 'null', '-']);
  const code = await p.exited;
  return { code, output: p.output };
}

test('a pushed stream is announced, plays back, refuses a forged token and ends with its push', async () => {
  const [a, b] = [await member('pusher'), await member('player')];
  const room = `rtmp${Date.now()}`;
  const { confrId } = await a.mgr.joinRoom({ roomName: room });
  await b.mgr.joinRoom({ roomName: room });

  const pub = await a.mgr.pubStream('cam');
  assert.equal(pub.rtcId, 'cam');
  assert.equal(pub.confrId, confrId);
  assert.match(pub.data.rtmp, new RegExp(`^rtmp://127\\.0\\.0\\.1:${rtmpPort}/live/${pub.id}\\?token=[\\w.-]+$`));
  // Not announced before the push arrives; a play URL is refused until then.
  await assert.rejects(b.mgr.subStream(pub.id), (e) => e.code === -554);

  const pusher = push(pub.data.rtmp);
  await b.seen('onStreamAdded', pub.id);

  const sub = await b.mgr.subStream(pub.id);
  assert.equal(sub.id, pub.id);
  assert.match(sub.data.rtmp, new RegExp(`/live/${pub.id}\\?token=`));
  const played = await play(sub.data.rtmp);
  assert.equal(played.code, 0, played.output);
  assert.match(played.output, /Video: wrapped_avframe.*320x240|320x240/);
  assert.match(played.output, /frame=\s*15\b/);

  // The push token is not a play token, and a forged one is refused by the callback.
  const forged = sub.data.rtmp.replace(/token=.*/, `token=${pub.data.rtmp.split('token=')[1]}`);
  assert.notEqual((await play(forged)).code, 0);

  // The push ends: nginx reports it, and everyone sees the stream go.
  pusher.kill('SIGKILL');
  await b.seen('onStreamRemoved', pub.id);
  await a.seen('onStreamRemoved', pub.id);

  // The live-pusher reports the disconnect: the SDK pushes again under the same rtcId.
  const again = await a.mgr.onStateChange({ detail: { code: -1307 }, currentTarget: { dataset: { streamId: pub.id } } });
  assert.notEqual(again.id, pub.id);
  assert.equal(again.rtcId, 'cam');
  const pusher2 = push(again.data.rtmp);
  await b.seen('onStreamAdded', again.id);
  // A live-player disconnect: a fresh play URL for the same stream. Other codes: nothing to do.
  const replay = await b.mgr.onStateChange({ detail: { code: -2301 } }, again.id);
  assert.equal(replay.id, again.id);
  assert.equal((await play(replay.data.rtmp)).code, 0);
  assert.equal(await b.mgr.onStateChange({ detail: { code: 2004 } }, again.id), null);

  await a.mgr.unpubStream(again.id);
  await b.seen('onStreamRemoved', again.id);
  pusher2.kill('SIGKILL');
});

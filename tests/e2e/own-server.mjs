// An emedia-server of the test's own, for scenarios the shared dev server cannot
// play: a short liveness timeout, a restart. Not in dev mode (a restart would change
// a dev server's random secret and void every token), so tokens come from the
// server's own `token` command, as an app's backend would mint them.
import { spawn, execFileSync } from 'node:child_process';
import net from 'node:net';
import dgram from 'node:dgram';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BIN = process.env.EMEDIA_SERVER_BIN ?? `${ROOT}target/debug/emedia-server`;
const SECRET = 'e2e-secret-that-is-at-least-32-bytes-long';

/** Starts the server; resolves with its URL and a `stop()` that kills it like a crash. */
export async function startServer({ listen = '127.0.0.1:0', args = [] } = {}) {
  const child = spawn(BIN, [
    '--listen', listen, '--app-secret', SECRET,
    '--demo-dir', `${ROOT}demo`, '--pkg-dir', `${ROOT}pkg`, ...args,
  ], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const keep = (d) => { output = (output + d).slice(-4000); };
  child.stderr.on('data', keep);
  const url = await new Promise((resolve, reject) => {
    child.stdout.on('data', (d) => {
      keep(d);
      const m = output.match(/listening on (http:\/\/[0-9.:]+)/);
      if (m) resolve(m[1]);
    });
    child.once('exit', (code) => reject(new Error(`emedia-server exited (${code}): ${output}`)));
  });
  const exited = new Promise((r) => child.once('exit', r));
  return { url, stop: async () => { child.kill('SIGKILL'); await exited; } };
}

/** A login token for `user`, minted with the server's secret. */
export function token(user) {
  return execFileSync(BIN, ['token', '--app-secret', SECRET, '--user', user]).toString().trim();
}

/**
 * A loopback TCP relay to `target` (host:port) whose traffic can be dropped silently,
 * both ways, without closing anything: what a dead network path looks like to both
 * ends (unlike the browser's offline mode, which keeps the TCP connection answering
 * the server's pings). Resolves with its port, `cut()`, `mend()` and `close()`.
 */
export async function cable(target) {
  const [host, port] = target.split(':');
  let dropping = false;
  const sockets = new Set();
  const relay = net.createServer((client) => {
    const upstream = net.connect(Number(port), host);
    for (const [from, to] of [[client, upstream], [upstream, client]]) {
      sockets.add(from);
      from.on('data', (d) => { if (!dropping) to.write(d); });
      from.on('close', () => { sockets.delete(from); to.destroy(); });
      from.on('error', () => {});
    }
  });
  await new Promise((r) => relay.listen(0, '127.0.0.1', r));
  return {
    port: relay.address().port,
    cut: () => { dropping = true; },
    mend: () => { dropping = false; },
    close: () => { for (const s of sockets) s.destroy(); relay.close(); },
  };
}

/**
 * The same for media: a loopback UDP relay in front of the SFU. Start the server with
 * `args` (it binds `target` and tells clients to send to the relay's port) and every
 * media path runs through the relay, where `cut()` drops it silently.
 */
export async function udpCable() {
  const bound = async () => {
    const s = dgram.createSocket('udp4');
    await new Promise((r) => s.bind(0, '127.0.0.1', r));
    return s;
  };
  const relay = await bound();
  const probe = await bound();
  const target = probe.address().port;
  probe.close();
  let dropping = false;
  const upstreams = new Map();
  relay.on('message', (msg, from) => {
    if (dropping) return;
    const key = `${from.address}:${from.port}`;
    let up = upstreams.get(key);
    if (!up) {
      // One upstream socket per client address, so the SFU sees each client apart.
      up = dgram.createSocket('udp4');
      up.on('message', (m) => { if (!dropping) relay.send(m, from.port, from.address); });
      upstreams.set(key, up);
    }
    up.send(msg, target, '127.0.0.1');
  });
  return {
    args: ['--rtc-listen', `127.0.0.1:${target}`, '--rtc-public-port', String(relay.address().port)],
    cut: () => { dropping = true; },
    mend: () => { dropping = false; },
    close: () => { for (const s of upstreams.values()) s.close(); relay.close(); },
  };
}

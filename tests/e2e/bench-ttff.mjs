// Benchmark (not a test): time from subStream() to the first decoded video frame at
// the subscriber, on loopback, for both peer-connection layouts the SDK can meet:
//  - cold: the subscription opens a new connection (ICE + DTLS), as every
//    subscription would with one connection per stream (emedia's layout);
//  - warm: the subscription renegotiates the conference's existing subscriber
//    connection, which is what the SDK does for every subscription after the first.
// Prints p50/p95 per stage and a JSON line. Run through scripts/bench-ttff.sh.
import { launch } from './browser.mjs';
import { openMember, waitForHook } from './page-sdk.mjs';

const RUNS = Number(process.env.RUNS ?? 25);
// Pause between subscriptions. Chrome's encoder ignores keyframe requests that come
// within ~300 ms of the last keyframe, so back-to-back subscriptions to one publisher
// wait for a later keyframe; GAP_MS=150 shows that effect.
const GAP_MS = Number(process.env.GAP_MS ?? 600);

// Runs in the page: subscribe with `mgr`, poll the stats until a frame is decoded.
async function measure([id, fresh]) {
  let mgr = window.mgr;
  let user;
  if (fresh) {
    const { Manager } = await import('/pkg/index.js');
    user = `cold${Math.floor(Math.random() * 1e9)}`;
    const { token } = await (await fetch(`/dev/token?user=${user}`)).json();
    mgr = new Manager();
    mgr.setIdentity(user, token);
    await mgr.joinRoom({ roomName: window.room });
  }
  const t0 = performance.now();
  const { stream } = await mgr.subStream(id, { audio: true, video: true });
  const resolved = performance.now() - t0;
  let connected = null;
  let frame = null;
  while (frame === null && performance.now() - t0 < 10000) {
    const report = await mgr.getStats(id);
    report.forEach((s) => {
      if (connected === null && s.type === 'transport' && s.dtlsState === 'connected') connected = performance.now() - t0;
      if (s.type === 'inbound-rtp' && s.kind === 'video' && s.framesDecoded > 0) frame = performance.now() - t0;
    });
  }
  stream.getTracks().forEach((t) => t.stop());
  if (fresh) await mgr.exitConference(window.confrId);
  else await mgr.unsubStream(id);
  return { resolved, connected, frame };
}

const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] : NaN;
};

const browser = await launch();
try {
  const room = `bench${Date.now()}`;
  const pub = await openMember(browser, 'publisher');
  const sub = await openMember(browser, 'subscriber');
  await pub.evaluate((room) => window.mgr.joinRoom({ roomName: room }), room);
  const joined = await sub.evaluate((room) => window.mgr.joinRoom({ roomName: room }), room);
  await sub.evaluate(([room, confrId]) => { window.room = room; window.confrId = confrId; }, [room, joined.confrId]);
  const id = await pub.evaluate(async () => (await window.mgr.pubStream({ audio: true, video: true })).id);
  await waitForHook(sub, 'onStreamAdded', `args[1].id === ${JSON.stringify(id)}`);
  await new Promise((r) => setTimeout(r, 1000)); // let the publisher's encoder settle

  const results = { cold: [], warm: [] };
  for (let i = 0; i < RUNS; i++) {
    // Alternate, so both layouts see the same conditions over the run.
    for (const layout of ['cold', 'warm']) {
      results[layout].push(await sub.evaluate(measure, [id, layout === 'cold']));
      await new Promise((r) => setTimeout(r, GAP_MS));
    }
  }

  console.log(`subStream() -> first decoded frame, ${RUNS} runs of each layout, ${GAP_MS} ms apart, on loopback (ms)`);
  console.log(`${'layout / stage'.padEnd(46)} ${'p50'.padStart(8)} ${'p95'.padStart(8)}`);
  const summary = {};
  for (const [layout, label] of [['cold', 'new connection per subscription'], ['warm', 'renegotiated subscriber connection']]) {
    const runs = results[layout];
    const col = (k) => runs.filter((r) => r[k] !== null).map((r) => r[k]);
    for (const [k, stage] of [['resolved', 'promise resolved'], ['frame', 'first frame decoded']]) {
      console.log(`${`${label}: ${stage}`.padEnd(46)} ${pct(col(k), 50).toFixed(1).padStart(8)} ${pct(col(k), 95).toFixed(1).padStart(8)}`);
    }
    summary[layout] = { p50: pct(col('frame'), 50), p95: pct(col('frame'), 95), failed: runs.filter((r) => r.frame === null).length };
  }
  summary.ratio_p50 = summary.cold.p50 / summary.warm.p50;
  console.log(`cold/warm p50 ratio: ${summary.ratio_p50.toFixed(2)}`);
  console.log(JSON.stringify({ bench: 'ttff', runs: RUNS, gap_ms: GAP_MS, ...summary }));
} finally {
  await browser.close();
}

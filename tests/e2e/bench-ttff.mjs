// Benchmark (not a test): time from subStream() to the first decoded video frame at
// the subscriber, over RUNS subscriptions to one publisher on loopback. Prints the
// median and p95, plus where the time goes (signaling reply, connection up, frame).
// Run through scripts/bench-ttff.sh, which starts a release server.
import { launch } from './browser.mjs';
import { openMember, waitForHook } from './page-sdk.mjs';

const RUNS = Number(process.env.RUNS ?? 25);

const browser = await launch();
try {
  const room = `bench${Date.now()}`;
  const pub = await openMember(browser, 'publisher');
  const sub = await openMember(browser, 'subscriber');
  await pub.evaluate((room) => window.mgr.joinRoom({ roomName: room }), room);
  await sub.evaluate((room) => window.mgr.joinRoom({ roomName: room }), room);
  const id = await pub.evaluate(async () => (await window.mgr.pubStream({ audio: true, video: true })).id);
  await waitForHook(sub, 'onStreamAdded', `args[1].id === ${JSON.stringify(id)}`);
  // Let the publisher's encoder settle before measuring.
  await new Promise((r) => setTimeout(r, 1000));

  const runs = [];
  for (let i = 0; i < RUNS; i++) {
    runs.push(await sub.evaluate(async (id) => {
      const t0 = performance.now();
      const { stream } = await window.mgr.subStream(id, { audio: true, video: true });
      const resolved = performance.now() - t0;
      // Poll the stats tightly: when the transport is up, when a frame is decoded.
      let connected = null;
      let frame = null;
      while (frame === null && performance.now() - t0 < 10000) {
        const report = await window.mgr.getStats(id);
        report.forEach((s) => {
          if (connected === null && s.type === 'transport' && s.dtlsState === 'connected') connected = performance.now() - t0;
          if (s.type === 'inbound-rtp' && s.kind === 'video' && s.framesDecoded > 0) frame = performance.now() - t0;
        });
      }
      stream.getTracks().forEach((t) => t.stop());
      await window.mgr.unsubStream(id);
      return { resolved, connected, frame };
    }, id));
    await new Promise((r) => setTimeout(r, 200));
  }

  const failed = runs.filter((r) => r.frame === null).length;
  const pct = (xs, p) => { const s = [...xs].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]; };
  const col = (k) => runs.filter((r) => r[k] !== null).map((r) => r[k]);
  const row = (label, k) => `${label.padEnd(34)} ${pct(col(k), 50).toFixed(1).padStart(8)} ${pct(col(k), 95).toFixed(1).padStart(8)}`;
  console.log(`subStream -> first decoded frame, ${RUNS} runs on loopback (${failed} without a frame)`);
  console.log(`${'stage (ms after subStream())'.padEnd(34)} ${'p50'.padStart(8)} ${'p95'.padStart(8)}`);
  console.log(row('promise resolved (SDP answered)', 'resolved'));
  console.log(row('transport connected (ICE+DTLS)', 'connected'));
  console.log(row('first frame decoded', 'frame'));
  console.log(JSON.stringify({ bench: 'ttff', runs: RUNS, failed, p50: pct(col('frame'), 50), p95: pct(col('frame'), 95),
    connected_p50: pct(col('connected'), 50), resolved_p50: pct(col('resolved'), 50) }));
} finally {
  await browser.close();
}

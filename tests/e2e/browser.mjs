// Debian's Chromium through playwright-core, with fake camera and microphone.
import { chromium } from 'playwright-core';

export const SERVER = process.env.EMEDIA_TEST_SERVER ?? 'http://127.0.0.1:8080';

// `fakeDevices`: the fake-device flag's value (`device-count=3` for more cameras);
// `args`: further Chromium flags.
export async function launch({ fakeDevices, args = [] } = {}) {
  const fake = '--use-fake-device-for-media-stream' + (fakeDevices ? `=${fakeDevices}` : '');
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    args: [
      '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-quic',
      fake, '--use-fake-ui-for-media-stream', ...args,
    ],
  });
}

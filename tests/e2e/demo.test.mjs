// Two tabs on the demo see each other join, change role, get kicked and leave.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { launch, SERVER } from './browser.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

const room = `demo${Date.now()}`;

async function openTab(user, role) {
  const page = await (await browser.newContext()).newPage();
  page.on('pageerror', (e) => assert.fail(`page error in ${user}'s tab: ${e.message}`));
  await page.goto(SERVER);
  await page.getByTestId('status').filter({ hasText: 'ready' }).waitFor();
  await page.getByTestId('user').fill(user);
  await page.getByTestId('room').fill(room);
  await page.getByTestId('role').selectOption(String(role));
  await page.getByTestId('join').click();
  return page;
}

const memberRow = (page, name) => page.locator(`[data-testid=members] li[data-member="${name}"]`);

test('two tabs see each other join, change role, get kicked and leave', async () => {
  const ann = await openTab('ann', 7);
  await ann.getByTestId('my-role').filter({ hasText: 'ADMIN' }).waitFor();
  const ben = await openTab('ben', 3);
  await ben.getByTestId('my-role').filter({ hasText: 'TALKER' }).waitFor();

  // Each sees the other.
  await memberRow(ann, 'ben').filter({ hasText: 'TALKER' }).waitFor();
  await memberRow(ben, 'ann').filter({ hasText: 'ADMIN' }).waitFor();

  // Ann starts her camera; Ben's tab shows it playing.
  await ann.getByTestId('publish').click();
  await ann.getByTestId('log').filter({ hasText: 'your camera is live' }).waitFor();
  const tile = ben.locator('[data-testid=videos] .tile video');
  await tile.waitFor();
  // The tile says whose it is and their role.
  await ben.locator('#videos .tile .label', { hasText: 'ann · ADMIN' }).waitFor();
  await ben.waitForFunction(() => document.querySelector('#videos video')?.videoWidth > 0, null, { timeout: 15000 });
  // Pausing her video hides it in Ben's tab.
  await ann.getByTestId('toggle-video').click();
  await ben.locator('#videos .tile.voff').waitFor();
  await ann.getByTestId('toggle-video').click();
  await ben.locator('#videos .tile.voff').waitFor({ state: 'detached' });
  // Muting shows on the tile too.
  await ann.getByTestId('toggle-audio').click();
  await ben.locator('#videos .tile .label', { hasText: 'ann · ADMIN · muted' }).waitFor();
  // SCREENSHOT_DIR=… keeps a picture of Ben's tab to look at.
  if (process.env.SCREENSHOT_DIR) await ben.screenshot({ path: `${process.env.SCREENSHOT_DIR}/demo-ben.png` });
  // Only the admin gets the moderation buttons.
  assert.equal(await memberRow(ben, 'ann').getByRole('button').count(), 0);

  // Ann makes Ben an admin; both tabs show it.
  await memberRow(ann, 'ben').getByTestId('grant-7').click();
  await ben.getByTestId('my-role').filter({ hasText: 'ADMIN' }).waitFor();
  await memberRow(ann, 'ben').filter({ hasText: 'ADMIN' }).waitFor();

  // Ben takes Ann down to TALKER.
  await memberRow(ben, 'ann').getByTestId('grant-3').click();
  await ann.getByTestId('my-role').filter({ hasText: 'TALKER' }).waitFor();
  await memberRow(ben, 'ann').filter({ hasText: 'TALKER' }).waitFor();

  // Ben kicks Ann: her tab says so and leaves the room; Ben's list and videos drop her.
  await memberRow(ben, 'ann').getByTestId('kick').click();
  await ann.getByTestId('log').filter({ hasText: 'you were kicked' }).waitFor();
  await ann.getByTestId('join').waitFor();
  await memberRow(ben, 'ann').waitFor({ state: 'detached' });
  await tile.waitFor({ state: 'detached' });

  // Ann comes back (as TALKER: the room is Ben's now), then Ben leaves.
  await ann.getByTestId('join').click();
  await memberRow(ann, 'ben').waitFor();
  await ben.getByTestId('leave').click();
  await ben.getByTestId('log').filter({ hasText: 'you left' }).waitFor();
  await memberRow(ann, 'ben').waitFor({ state: 'detached' });
  // Ben was the last admin; Ann, the earliest talker, is promoted.
  await ann.getByTestId('my-role').filter({ hasText: 'ADMIN' }).waitFor();
});

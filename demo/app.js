// The emedia demo: join a room by name, see who is there, and (as ADMIN) change
// roles, kick and close the room. Uses the SDK package the server serves at /pkg/.
import emedia from '/pkg/index.js';

const ROLE_NAMES = { 7: 'ADMIN', 3: 'TALKER', 1: 'AUDIENCE' };
const $ = (sel) => document.querySelector(sel);
const members = new Map(); // member id → member
const tiles = new Map(); // stream id → tile element
const shown = new Map(); // stream id → {memId, name, type, aoff}: what its caption says
let current = null; // {confrId, role, me}
let mine = null; // {id, stream, voff, aoff}: my published camera

function log(text) {
  const li = document.createElement('li');
  li.textContent = `${new Date().toLocaleTimeString()}  ${text}`;
  $('#log').prepend(li);
}

function render() {
  $('#join-panel').hidden = !!current;
  $('#room-panel').hidden = !current;
  document.body.classList.toggle('admin', current?.role === 7);
  document.body.classList.toggle('talker', (current?.role ?? 1) >= 3);
  document.body.classList.toggle('publishing', !!mine);
  $('#toggle-video').textContent = mine?.voff ? 'Resume video' : 'Pause video';
  $('#toggle-audio').textContent = mine?.aoff ? 'Unmute' : 'Mute';
  if (!current) return;
  $('#my-role').textContent = ROLE_NAMES[current.role];
  const list = $('#members');
  list.replaceChildren();
  for (const m of [current.me, ...members.values()]) {
    const li = document.createElement('li');
    li.dataset.member = m.name;
    li.innerHTML = `<span class="name"></span><span class="role"></span>`;
    li.querySelector('.name').textContent = m === current.me ? `${m.name} (you)` : m.name;
    li.querySelector('.role').textContent = ROLE_NAMES[m.role];
    if (current.role === 7 && m !== current.me) {
      for (const [role, label] of [[7, 'Make admin'], [3, 'Make talker'], [1, 'Make audience']]) {
        if (role === m.role) continue;
        li.append(button(label, `grant-${role}`, () => emedia.mgr.grantRole(current.confrId, [m.id], role)));
      }
      li.append(button('Kick', 'kick', () => emedia.mgr.kickMembersById(current.confrId, [m.id])));
    }
    list.append(li);
  }
}

function button(label, testid, action) {
  const b = document.createElement('button');
  b.className = 'secondary';
  b.textContent = label;
  b.dataset.testid = testid;
  b.onclick = () => action().catch((e) => log(`failed: ${e.message} (${e.code})`));
  return b;
}

/** "name · ROLE · screen · muted", from what is known of the stream and its owner. */
function caption(streamId) {
  const s = shown.get(streamId);
  if (!s) return '';
  const role = s.memId === current?.me.id ? current.role : members.get(s.memId)?.role;
  return [s.name, ROLE_NAMES[role], s.type === 'desktop' ? 'screen' : null, s.aoff ? 'muted' : null]
    .filter(Boolean).join(' · ');
}

function refreshCaptions() {
  for (const [id, tile] of tiles) tile.querySelector('.label').textContent = caption(id);
}

function addTile(streamId, label, mediaStream, muted) {
  const tile = document.createElement('div');
  tile.className = 'tile';
  tile.dataset.stream = streamId;
  const video = document.createElement('video');
  Object.assign(video, { autoplay: true, playsInline: true, muted, srcObject: mediaStream });
  const caption = document.createElement('span');
  caption.className = 'label';
  caption.textContent = label;
  tile.append(video, caption);
  $('#videos').append(tile);
  tiles.set(streamId, tile);
  refreshCaptions();
}

function removeTile(streamId) {
  tiles.get(streamId)?.remove();
  tiles.delete(streamId);
  shown.delete(streamId);
}

function leftRoom(why) {
  log(why);
  current = null;
  mine = null;
  members.clear();
  for (const id of [...tiles.keys()]) removeTile(id);
  render();
}

const EXIT_REASONS = { 0: 'you left', 4: 'network failure', 10: 'logged in elsewhere', 11: 'the room was closed', 12: 'you were kicked' };

async function main() {
  await emedia.ready;
  const mgr = emedia.mgr;
  $('#status').textContent = 'ready';

  mgr.onMemberJoined = (m) => { members.set(m.id, m); log(`${m.name} joined as ${ROLE_NAMES[m.role]}`); render(); };
  mgr.onMemberExited = (m, reason) => { members.delete(m.id); log(`${m.name} left (reason ${reason})`); render(); };
  mgr.onMemberRoleChanged = (m) => { members.set(m.id, m); log(`${m.name} is now ${ROLE_NAMES[m.role]}`); render(); refreshCaptions(); };
  mgr.onRoleChanged = (role) => { current.role = role; current.me.role = role; log(`you are now ${ROLE_NAMES[role]}`); render(); refreshCaptions(); };
  // Watch every stream as it appears: subscribe, and show it in a tile.
  mgr.onStreamAdded = async (member, stream) => {
    log(`${member.name ?? member.id} started ${stream.type === 'desktop' ? 'sharing a screen' : 'a camera'}`);
    try {
      const sub = await mgr.subStream(stream.id, { audio: true, video: true });
      shown.set(stream.id, { memId: stream.memId, name: member.name ?? member.id, type: stream.type, aoff: stream.aoff });
      addTile(stream.id, member.name ?? member.id, sub.stream, false);
      tiles.get(stream.id)?.classList.toggle('voff', stream.voff === 1);
    } catch (e) {
      log(`could not watch ${stream.id}: ${e.message} (${e.code})`);
    }
  };
  mgr.onStreamRemoved = (member, stream) => {
    removeTile(stream.id);
    if (mine?.id === stream.id) { mine = null; render(); }
    log(`${member.name ?? member.id}'s stream ended`);
  };
  mgr.onMediaChanaged = (stream) => {
    tiles.get(stream.id)?.classList.toggle('voff', stream.voff === 1);
    const s = shown.get(stream.id);
    if (s) { s.aoff = stream.aoff; refreshCaptions(); }
    log(`${stream.owner.name ?? stream.memId} turned video ${stream.voff ? 'off' : 'on'}, audio ${stream.aoff ? 'off' : 'on'}`);
  };
  mgr.onConferenceExit = (reason, failed) => leftRoom(`left the room: ${EXIT_REASONS[reason] ?? reason}${failed ? ` (${failed})` : ''}`);

  $('#join-form').onsubmit = async (ev) => {
    ev.preventDefault();
    const form = new FormData(ev.target);
    const user = form.get('user');
    try {
      // Dev mode only: a real app gets its token from its own backend.
      const res = await fetch(`/dev/token?user=${encodeURIComponent(user)}`);
      if (!res.ok) throw new Error(await res.text());
      const { token } = await res.json();
      mgr.setIdentity(user, token);
      const joined = await mgr.joinRoom({
        roomName: form.get('room'),
        password: form.get('password'),
        role: Number(form.get('role')),
        config: { nickName: user },
      });
      current = { confrId: joined.confrId, role: joined.role, me: { id: joined.joinId, name: user, role: joined.role } };
      $('#room-name').textContent = form.get('room');
      log(`joined ${form.get('room')} as ${ROLE_NAMES[joined.role]}${joined.created ? ' (new room)' : ''}`);
      render();
    } catch (e) {
      log(`could not join: ${e.message}${e.code ? ` (${e.code})` : ''}`);
    }
  };
  $('#publish').onclick = async () => {
    try {
      const pub = await mgr.pubStream({ audio: true, video: true });
      mine = { id: pub.id, stream: pub.stream, voff: 0, aoff: 0 };
      shown.set(pub.id, { memId: current.me.id, name: 'you', type: 'camera', aoff: 0 });
      addTile(pub.id, 'you', pub.stream, true);
      log('your camera is live');
      render();
    } catch (e) {
      log(`could not publish: ${e.message} (${e.code})`);
    }
  };
  $('#toggle-video').onclick = async () => {
    await (mine.voff ? mgr.resumeVideo(mine.id) : mgr.pauseVideo(mine.id));
    mine.voff ^= 1;
    tiles.get(mine.id)?.classList.toggle('voff', mine.voff === 1);
    render();
  };
  $('#toggle-audio').onclick = async () => {
    await (mine.aoff ? mgr.resumeAudio(mine.id) : mgr.pauseAudio(mine.id));
    mine.aoff ^= 1;
    shown.get(mine.id).aoff = mine.aoff;
    refreshCaptions();
    render();
  };
  let screen = null;
  $('#share').onclick = async () => {
    try {
      if (screen) {
        await mgr.unpubStream(screen);
        removeTile(screen);
        screen = null;
      } else {
        const pub = await mgr.pubStream({ screen: true });
        screen = pub.id;
        shown.set(pub.id, { memId: current.me.id, name: 'you', type: 'desktop', aoff: 1 });
        addTile(pub.id, 'your screen', pub.stream, true);
      }
      $('#share').textContent = screen ? 'Stop sharing' : 'Share screen';
    } catch (e) {
      log(`could not share the screen: ${e.message} (${e.code})`);
    }
  };
  $('#leave').onclick = () => mgr.exitConference(current.confrId).catch((e) => log(e.message));
  $('#destroy').onclick = () => mgr.destroyConference(current.confrId).catch((e) => log(e.message));
  render();
}

main().catch((e) => { $('#status').textContent = `failed to load: ${e.message}`; });

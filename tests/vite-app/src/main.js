// An app that installed emedia-sdk from npm: the test drives it through window.app.
import emedia from 'emedia-sdk';

const params = new URLSearchParams(location.search);
const server = params.get('server');

window.app = {
  async join(user, room) {
    await emedia.ready;
    emedia.config({ server });
    const { token } = await (await fetch(`${server}/dev/token?user=${user}`)).json();
    emedia.mgr.setIdentity(user, token);
    window.added = [];
    emedia.mgr.onStreamAdded = (member, stream) => window.added.push(stream.id);
    return (await emedia.mgr.joinRoom({ roomName: room })).confrId;
  },
  async publish() {
    return (await emedia.mgr.pubStream({ audio: true, video: true })).id;
  },
  async watch(streamId) {
    const { stream } = await emedia.mgr.subStream(streamId);
    document.getElementById('remote').srcObject = stream;
  },
};
document.getElementById('status').textContent = 'ready';

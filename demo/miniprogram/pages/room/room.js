const { emedia, server } = getApp().globalData;

Page({
  data: { room: 'demo', joined: false, confrId: '', pushId: '', pushUrl: '', players: [], log: [] },

  say(line) {
    this.setData({ log: [line, ...this.data.log].slice(0, 30) });
  },

  onRoom(e) {
    this.setData({ room: e.detail.value });
  },

  async join() {
    await emedia.ready;
    const mgr = emedia.mgr;
    const user = `wx${Math.floor(Math.random() * 1e6)}`;
    // Dev mode only: a real app gets the token from its own backend.
    const { token } = await new Promise((resolve, reject) => wx.request({
      url: `${server}/dev/token?user=${user}`,
      success: (r) => resolve(r.data),
      fail: reject,
    }));
    mgr.setIdentity(user, token);
    mgr.onMemberJoined = (m) => this.say(`${m.name} joined`);
    mgr.onMemberExited = (m) => this.say(`${m.name} left`);
    mgr.onStreamAdded = async (member, stream) => {
      this.say(`${member.name || member.id} publishes ${stream.id}`);
      try {
        const res = await mgr.subStream(stream.id);
        const players = this.data.players.concat({ id: stream.id, url: res.data.rtmp, name: member.name || '' });
        this.setData({ players });
      } catch (e) {
        this.say(`cannot play ${stream.id}: ${e.code} ${e.message}`);
      }
    };
    mgr.onStreamRemoved = (member, stream) => {
      this.setData({ players: this.data.players.filter((p) => p.id !== stream.id) });
    };
    mgr.onConferenceExit = (reason) => {
      this.say(`left the conference (${reason})`);
      this.setData({ joined: false, pushUrl: '', players: [] });
    };
    const joined = await mgr.joinRoom({ roomName: this.data.room });
    this.setData({ joined: true, confrId: joined.confrId });
    const pub = await mgr.pubStream('camera');
    this.setData({ pushId: pub.id, pushUrl: pub.data.rtmp });
    this.say(`joined ${joined.confrId} as ${joined.role}`);
  },

  // live-pusher / live-player state changes: after a lost connection the SDK hands
  // out a fresh URL (and for the pusher a new stream id).
  async onStateChange(e) {
    const fresh = await emedia.mgr.onStateChange(e);
    if (!fresh) return;
    if (e.currentTarget.id === this.data.pushId) {
      this.setData({ pushId: fresh.id, pushUrl: fresh.data.rtmp });
    } else {
      const players = this.data.players.map((p) => (p.id === fresh.id ? { ...p, url: fresh.data.rtmp } : p));
      this.setData({ players });
    }
  },

  async leave() {
    await emedia.mgr.exitConference(this.data.confrId);
  },
});

// Right use of the API type-checks; each wrong use below is marked and must be refused.
import emedia, { type Member, type Stream, type EmediaError } from '../../pkg/index.js';

async function meeting(token: string): Promise<void> {
  await emedia.ready;
  emedia.config({ server: 'http://127.0.0.1:8080' });
  const mgr = emedia.mgr;
  mgr.setIdentity('alice', token);

  mgr.onMemberJoined = (m: Member) => console.log(m.name, m.role === mgr.Role.ADMIN);
  mgr.onMemberExited = (m, reason) => console.log(m.id, reason === 13);
  mgr.onConferenceExit = (reason, failed) => console.log(reason === 12, failed === -9527);
  mgr.onStreamAdded = async (_member, stream: Stream) => {
    const { stream: remote } = await mgr.subStream(stream.id, { video: true });
    console.log(remote.getTracks().length, stream.voff === 1, stream.type === 'desktop');
  };
  mgr.onMediaChanaged = (s) => console.log(s.aoff);
  mgr.onMemberJoined = null;

  const confr = await mgr.createConference(mgr.ConfrType.LIVE, 'pw');
  await mgr.createConference({ confrType: 10, maxTalkerCount: 4, ext: { topic: 'x' } });
  const joined = await mgr.joinConferenceWithTicket(confr.confrId, confr.ticket, { seat: 1 });
  const ticket: string = await mgr.getConferenceTkt(confr.confrId, 'pw');
  await mgr.joinConference(confr.confrId, 'pw');
  const room = await mgr.joinRoom({ roomName: 'standup', role: 7, config: { nickName: 'Al' } });
  await mgr.grantRole(room.confrId, ['bob'], mgr.Role.AUDIENCE);
  await mgr.kickMembersById(room.confrId, [joined.members[0].id]);
  const info = await mgr.getConferenceInfo(room.confrId);
  console.log(ticket, info.config.maxVideoCount, info.members.length);

  const mine = await mgr.pubStream({ audio: true, video: { width: 640 }, videoCodec: 'h264' });
  await mgr.pauseVideo(mine.id);
  await mgr.pubStream(mine.stream);
  const report: RTCStatsReport = await mgr.getStats(mine.id);
  report.forEach((s) => console.log(s.type));
  try {
    await mgr.destroyConference(room.confrId);
  } catch (e) {
    console.log((e as EmediaError).code === -101);
  }

  // Presence and calls.
  const statuses = await mgr.getUserStatus(['bob']);
  console.log(statuses[0].status === 2, statuses[0].dnd);
  await mgr.startUserStatusNotify();
  mgr.onUserStatusChanged = ({ userId, status }) => console.log(userId, status === 0);
  await mgr.setDNDStatus(1);
  const busy: boolean = await mgr.isBusy();
  mgr.onInvited = async (inv) => {
    if (inv.callType === 'audio' && !busy) {
      const conf = await mgr.accept(inv.callId);
      console.log(conf.confrId === inv.confrId, inv.userIdList.length, inv.isFromGroup);
    } else {
      await mgr.reject(inv.callId);
    }
  };
  mgr.onNoResp = (userId, code) => console.log(userId, code === -601);
  mgr.onGroupCallInviteeListUpdate = (ids, callId) => console.log(ids.length, callId);
  mgr.onError = (code, message) => console.log(code === -604, message);
  const called = await mgr.call('bob', { type: 'audio', timeout: 1.5, ext: { topic: 'x' } });
  console.log(called.conference?.role);
  await mgr.groupCall(['carol', 'dave'], { callId: called.callId });
  await mgr.hangup(called.callId);
  const inviteId: string = await mgr.inviteToConference(room.confrId, 'erin', { why: 1 }, 20);
  mgr.onInviteStatus = (id, status) => console.log(id === inviteId, status === 4);
  await mgr.cancelInvite(inviteId);

  // Local media controls.
  const devices = await mgr.mediaDevices();
  const camera = devices.find((d) => d.kind === 'videoinput');
  const cam = await mgr.pubStream({ audio: true, video: true });
  if (camera) await mgr.changeCamera(cam.id, camera.deviceId);
  await mgr.changeMicrophone(cam.id, devices.filter((d) => d.kind === 'audioinput')[0].deviceId);
  await mgr.switchToAudio(cam.id);
  await mgr.muteRemoteAudio('S1', true);
  await mgr.muteAllRemoteAudio(false);
  await mgr.enableVolumeIndication(300);
  mgr.onUserVoiceVolume = (list) => list.forEach((v) => console.log(v.userId, v.streamId, v.volume > 10));
  mgr.onDeviceChanged = () => console.log(devices.length, devices[0].label, devices[0].groupId);

  // In-conference interaction.
  await mgr.sendRoomTextMsg(room.confrId, 'hello');
  await mgr.sendRoomCustomMsg(room.confrId, 'gift', JSON.stringify({ n: 1 }));
  await mgr.sendCmd('bob', 'ping');
  const task: number = await mgr.sendFile('bob', new Blob(['x']), 'x.txt');
  await mgr.sendBuffer('bob', new Uint8Array(8));
  await mgr.cancelSend(task);
  mgr.onSendProgress = (id, sent, total) => console.log(id, sent / total);
  mgr.onNotifyFileData = (from, blob, name) => console.log(from, blob.size, name);
  mgr.onNotifyBufferData = (from, data) => console.log(from, data.byteLength);
  mgr.onNotifyCancelSend = (id) => console.log(id + 1);
  mgr.onRecvRoomTextMsg = (from, text) => console.log(from.name, text);
  mgr.onRecvRoomCustomMsg = (from, cmd, msg) => console.log(from.id, cmd, msg);
  mgr.onNotifyCmdData = (from, data) => console.log(from, data.length);
  await mgr.requestToTalker(room.confrId, 'please');
  mgr.onRequestToTalker = (applicant, agree, refuse) => void (applicant.role === 1 ? agree() : refuse());
  mgr.onRequestToTalkerReply = (agreed) => console.log(agreed === true);
  await mgr.muteBymemberId(room.confrId, 'bob');
  await mgr.unmuteAll(room.confrId);
  mgr.onMuted = (confrId) => console.log(confrId);
  await mgr.setConferenceAttrs(room.confrId, { key: 'topic', val: 'rust' });
  await mgr.deleteConferenceAttrs(room.confrId, 'topic');
  mgr.onConfrAttrsUpdated = (attrs) => console.log(attrs.topic ?? '');
  const infos = await mgr.getRoomInfos([room.confrId]);
  console.log(infos[0].memberCount, infos[0].attrs, room.attrs);
  const anchors = await mgr.getAnchorList(room.confrId);
  console.log(anchors[0].role);
  await mgr.requestRoomPK(room.confrId, 'C2', 'carol');
  mgr.onRequestRoomPK = (from, fromConfrId, agree) => void agree().then(() => console.log(from.name, fromConfrId));
  mgr.onRoomPKStarted = (confrId, other) => console.log(confrId, other);
  await mgr.quitRoomPK(room.confrId);
  await mgr.logout();

  // @ts-expect-error: sendCmd sends text
  await mgr.sendCmd('bob', new Uint8Array(1));
  // @ts-expect-error: a taskId is a number
  await mgr.cancelSend('1');
  // @ts-expect-error: attributes are {key, val}
  await mgr.setConferenceAttrs(room.confrId, { name: 'topic' });
  // @ts-expect-error: a call is video or audio
  await mgr.call('bob', { type: 'fax' });
  // @ts-expect-error: groupCall takes a list of users
  await mgr.groupCall('bob');
  // @ts-expect-error: invite statuses are 0 to 4
  mgr.onInviteStatus = (_id: string, status: 5) => status;
  // @ts-expect-error: a role that is not 1, 3 or 7
  await mgr.grantRole(room.confrId, ['bob'], 5);
  // @ts-expect-error: confrType must be 10, 11 or 12
  await mgr.createConference(13, 'pw');
  // @ts-expect-error: joinRoom needs a roomName
  await mgr.joinRoom({ password: 'x' });
  // @ts-expect-error: a hook gets a member, not a string
  mgr.onMemberJoined = (m: string) => console.log(m);
  // @ts-expect-error: no such method
  await mgr.publish({ audio: true });
  // @ts-expect-error: videoCodec is vp8 or h264
  await mgr.pubStream({ videoCodec: 'vp9' });
  // @ts-expect-error: the constants are read-only
  mgr.Role.ADMIN = 3;
  // @ts-expect-error: muteRemoteAudio names the stream
  await mgr.muteRemoteAudio(true);
  // @ts-expect-error: devices are cameras and microphones
  mgr.onDeviceChanged = (kind: 'audiooutput') => kind;
  // @ts-expect-error: a volume entry is not a number
  mgr.onUserVoiceVolume = (list: number[]) => list;
}

void meeting;

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
  await mgr.logout();

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

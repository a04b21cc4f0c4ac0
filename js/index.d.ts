// Types of the emedia SDK's public API (`import emedia from 'emedia-sdk'`).

/** `emedia.mgr.ConfrType` */
export interface ConfrTypes {
  readonly COMMUNICATION: 10;
  readonly COMMUNICATION_MIX: 11;
  readonly LIVE: 12;
}
export type ConfrType = 10 | 11 | 12;

/** `emedia.mgr.Role`: ADMIN 7, TALKER 3, AUDIENCE 1. */
export interface Roles {
  readonly ADMIN: 7;
  readonly TALKER: 3;
  readonly AUDIENCE: 1;
}
export type Role = 1 | 3 | 7;

/** `onConferenceExit(reason)`: 0 left, 1 no response, 2 refused, 3 busy, 4 failed
 * (see `failed`), 5 not supported, 6 timeout, 10 logged in elsewhere, 11 closed, 12 kicked. */
export type ExitReason = 0 | 1 | 2 | 3 | 4 | 5 | 6 | 10 | 11 | 12;

/** `onMemberExited(member, reason)`: 0 left, 1 no response, 4 network, 10 replaced by a
 * newer login, 12 kicked, 13 hidden (became AUDIENCE, or you stopped being ADMIN). */
export type MemberExitReason = 0 | 1 | 4 | 10 | 12 | 13;

/** The `code` of a rejected promise (see the README's table). */
export type ErrorCode =
  | -100 | -101 | -200 | -301 | -302 | -500 | -501 | -502 | -504 | -506 | -507 | -508
  | -510 | -520 | -522 | -523 | -524 | -550 | -554 | -601 | -602 | -603 | -604 | -9527;

/** What every rejected promise carries. */
export interface EmediaError extends Error {
  code: ErrorCode;
}

/** Presence: 0 offline, 1 online and idle, 2 in a call or being rung for one, 3 in a
 * conference that is not a call. */
export type UserState = 0 | 1 | 2 | 3;

/** What `getUserStatus` resolves (one per user) and `onUserStatusChanged` gets. */
export interface UserStatus {
  userId: string;
  status: UserState;
  /** Do not disturb (`setDNDStatus`): callers hear busy. */
  dnd: boolean;
}

/** An audio call: pubStream in its conference publishes audio only unless `video` is given. */
export type CallType = 'video' | 'audio';

/** `onInvited(invitation)`: someone calls you, or invites you into a conference. */
export interface Invitation {
  /** What `accept` / `reject` take: the call id, or the invite id of an invitation. */
  callId: string;
  /** The conference `accept` joins. */
  confrId: string;
  /** Who called or invited. */
  sponsor: string;
  /** Everyone rung for this call, you included. */
  userIdList: string[];
  isFromGroup: boolean;
  callType: CallType;
  ext?: Json;
}

export interface CallOptions {
  /** Default 'video'. */
  type?: CallType;
  /** Seconds each invitee rings before `onNoResp(userId, 0)` (fractions allowed);
   * default 30. */
  timeout?: number;
  /** Passed to the invitees' `onInvited`. */
  ext?: Json;
}

export interface GroupCallOptions extends CallOptions {
  /** The id of a call you are in: ring more people into it (its members get
   * `onGroupCallInviteeListUpdate`). */
  callId?: string;
}

/** What `call` / `groupCall` resolve. */
export interface Called {
  callId: string;
  confrId: string;
  /** The call's conference, which you are now in (as ADMIN); absent when `groupCall`
   * rang more people into a running call. */
  conference?: JoinedConference;
}

/** `onInviteStatus(inviteId, status)`: 0 ringing, 1 accepted, 2 rejected (or busy),
 * 3 no answer (or offline), 4 hung up (`cancelInvite`). */
export type InviteStatus = 0 | 1 | 2 | 3 | 4;

/** A JSON-serialisable value: what `ext` may hold. */
export type Json = string | number | boolean | null | Json[] | { [key: string]: Json };

export interface Member {
  id: string;
  name: string;
  globalName: string;
  nickName?: string;
  ext?: Json;
  role: Role;
  confrId: string;
}

export interface Stream {
  id: string;
  /** 1 when the video is paused or absent. */
  voff: 0 | 1;
  /** 1 when the audio is paused or absent. */
  aoff: 0 | 1;
  memId: string;
  /** The publisher (only `id` is known if it is out of your view). */
  owner: Member | { id: string };
  rtcId: string;
  type: 'camera' | 'desktop';
  ext?: Json;
  confrId: string;
}

/** `createConference` resolves this; `ticket` is an ADMIN ticket for its creator. */
export interface Conference {
  confrId: string;
  id: string;
  password: string;
  roleToken: string;
  ticket: string;
  type: ConfrType;
}

/** What the joins resolve. */
export interface JoinedConference {
  confrId: string;
  id: string;
  /** Your member id. */
  joinId: string;
  role: Role;
  roleToken: string;
  ticket: string;
  type: ConfrType;
  /** Whether this join created the conference (joinRoom). */
  created: boolean;
  password?: string;
  /** The members already there that you may see. */
  members: Member[];
  /** The conference's attributes (`setConferenceAttrs`). */
  attrs: Record<string, string>;
}

export interface ConferenceConfig {
  maxTalkerCount?: number;
  maxVideoCount?: number;
  maxAudienceCount?: number;
  maxPubDesktopCount?: number;
  rec?: boolean;
  recMerge?: boolean;
  ext?: Json;
}

export interface ConferenceInfo {
  confrId: string;
  id: string;
  type: ConfrType;
  roomName?: string;
  hasPassword: boolean;
  config: Required<Omit<ConferenceConfig, 'ext'>> & { ext?: Json };
  members: Member[];
}

export interface CreateConferenceOptions extends ConferenceConfig {
  confrType: ConfrType;
  password?: string;
}

export interface JoinRoomOptions {
  roomName: string;
  password?: string;
  /** Honoured for the room's creator (default ADMIN); later joiners get at most TALKER. */
  role?: Role;
  config?: ConferenceConfig & { nickName?: string; confrType?: ConfrType };
}

export interface PubStreamOptions {
  /** Booleans or getUserMedia constraints; both default to true, except `video` in an
   * audio call's conference (`call(userId, {type: 'audio'})`), which defaults to false. */
  audio?: boolean | MediaTrackConstraints;
  video?: boolean | MediaTrackConstraints;
  /** Share the screen (getDisplayMedia); the stream's type is `desktop`. */
  screen?: boolean;
  /** Publish a stream the app already has. */
  stream?: MediaStream;
  type?: 'camera' | 'desktop';
  rtcId?: string;
  ext?: Json;
  videoCodec?: 'vp8' | 'h264';
  /** Default: the conference joined last. */
  confrId?: string;
}

export interface PublishedStream {
  /** The stream id; changes when the SDK publishes again after a rejoin (same object). */
  id: string;
  rtcId: string;
  stream: MediaStream;
  confrId: string;
}

export interface SubscribedStream {
  id: string;
  stream: MediaStream;
}

/** A camera or microphone, as `mediaDevices()` lists it. */
export interface MediaDevice {
  deviceId: string;
  kind: 'videoinput' | 'audioinput';
  /** Empty until the page has had camera or microphone access. */
  label: string;
  groupId: string;
}

/** One stream's entry in `onUserVoiceVolume`. */
export interface VoiceVolume {
  /** The publisher's user id; yours for your own streams. */
  userId: string;
  streamId: string;
  /** 0–100: 100 + 2 × dBFS of the mean level over the interval (0 at −50 dBFS and
   * below); 0 for a stream you muted with `muteRemoteAudio`. */
  volume: number;
}

/** A WebSocket-shaped object, as `socketFactory` returns. */
export interface SocketLike {
  send(data: string): void;
  /** `code` 1000 when the user logs out; none when the SDK drops a link it will resume. */
  close(code?: number): void;
  onopen: ((ev?: unknown) => void) | null;
  onmessage: ((ev: { data: string }) => void) | null;
  onclose: ((ev?: unknown) => void) | null;
}

export interface EmediaOptions {
  /** The emedia-server base URL, http(s) or ws(s); default: the page's origin. */
  server?: string;
  socketFactory?: (url: string) => SocketLike;
  /** CommonJS entry only, right after require(): where the wasm is (a path inside the
   * mini-program package, or a URL), or its bytes / compiled module. */
  wasmPath?: string;
  wasm?: BufferSource | WebAssembly.Module;
}

/** What pubStream / subStream resolve in a mini-program: the `<live-pusher>` /
 * `<live-player>` source. */
export interface RtmpStream {
  id: string;
  data: { rtmp: string };
  /** pubStream only. */
  rtcId?: string;
  confrId?: string;
}

/** A live-pusher / live-player `bindstatechange` event. */
export interface LiveStateChangeEvent {
  detail: { code: number };
  currentTarget?: { id?: string; dataset?: { streamId?: string } };
}

/** `emedia.mgr`. */
export declare class Manager {
  constructor();
  free(): void;
  configure(options: EmediaOptions): void;
  /** Logs in at once (the user is then online and can be called); a different user
   * ends the old user's conferences. */
  setIdentity(userId: string, token: string): void;
  /** Ends the session: the socket closes normally and the server takes the user
   * offline at once; the identity is forgotten, local media released, each conference
   * ends with `onConferenceExit(0)` and pending calls reject with -9527. */
  logout(): Promise<void>;

  /** Presence of these users (all online users of the app without a list). */
  getUserStatus(userIds?: string[] | string): Promise<UserStatus[]>;
  /** `onUserStatusChanged` on from now, for every user of the app. */
  startUserStatusNotify(): Promise<void>;
  stopUserStatusNotify(): Promise<void>;
  /** Do not disturb: 0 off, anything else on. Callers hear `onLineBusy`. */
  setDNDStatus(n: number | boolean): Promise<void>;
  /** Whether this user is in a call or being rung for one (status 2). */
  isBusy(): Promise<boolean>;

  /** Rings one user; resolves once it rings, with you in the call's conference (the
   * hooks of any conference apply: pubStream, onMemberJoined, onStreamAdded...).
   * Refused: yourself -200, an offline user -601. Then `onUserEnter`, `onReject`,
   * `onLineBusy` or `onNoResp`; alone again (the callee hung up, or never came), the
   * call ends: `onCallEnd`, then `onConferenceExit` (0, 1 no answer, 3 busy). */
  call(userId: string, options?: CallOptions): Promise<Called>;
  /** Rings several users (offline ones: `onNoResp(userId, -601)` at once); with
   * `options.callId`, rings more people into a running call. */
  groupCall(userIds: string[], options?: GroupCallOptions): Promise<Called>;
  /** Answers an invitation (a call, or an invitation into a conference): joins its
   * conference as TALKER. -602 if it was cancelled or expired, -603 if answered already. */
  accept(callId: string): Promise<JoinedConference>;
  reject(callId: string): Promise<void>;
  /** Before anyone answered, cancels the call (invitees get `onCallingCancel`);
   * in a call, leaves it (the others get `onUserLeave`). Either way
   * `onConferenceExit(0)` follows, once. -604 if you are not in that call. */
  hangup(callId: string): Promise<void>;
  /** Asks a user into a conference you are ADMIN or TALKER of (else -101); resolves the
   * invite id; its fate comes to `onInviteStatus`. `timeout`: seconds it rings (default 30). */
  inviteToConference(confrId: string, userId: string, ext?: Json, timeout?: number): Promise<string>;
  cancelInvite(inviteId: string): Promise<void>;

  createConference(confrType: ConfrType, password?: string, rec?: boolean, recMerge?: boolean): Promise<Conference>;
  createConference(options: CreateConferenceOptions): Promise<Conference>;
  getConferenceTkt(confrId: string, password?: string): Promise<string>;
  joinConference(confrId: string, password?: string, ext?: Json): Promise<JoinedConference>;
  joinConferenceWithTicket(confrId: string, ticket: string, ext?: Json): Promise<JoinedConference>;
  joinRoom(options: JoinRoomOptions): Promise<JoinedConference>;
  exitConference(confrId: string): Promise<void>;
  destroyConference(confrId: string): Promise<void>;
  kickMembersById(confrId: string, memberNames: string[] | string): Promise<void>;
  grantRole(confrId: string, memberNames: string[] | string, role: Role): Promise<void>;
  getConferenceInfo(confrId: string, password?: string): Promise<ConferenceInfo>;

  pubStream(options?: PubStreamOptions | MediaStream | string): Promise<PublishedStream>;
  unpubStream(streamId: string): Promise<void>;
  subStream(streamId: string, options?: { audio?: boolean; video?: boolean }): Promise<SubscribedStream>;
  unsubStream(streamId: string): Promise<void>;
  pauseAudio(streamId: string): Promise<void>;
  resumeAudio(streamId: string): Promise<void>;
  pauseVideo(streamId: string): Promise<void>;
  resumeVideo(streamId: string): Promise<void>;
  getStats(streamId: string): Promise<RTCStatsReport>;
  /** Mini-programs: pass live-pusher / live-player state changes; resolves a fresh
   * URL after a lost connection (the pusher's under a new stream id), else null. */
  onStateChange(event: LiveStateChangeEvent, streamId?: string): Promise<RtmpStream | null>;

  // Local media controls (browsers; in a mini-program they reject with -507, except
  // enableVolumeIndication(0)).
  /** Only this page stops (or starts again) playing a subscribed stream's audio.
   * -554 if you do not subscribe to it. */
  muteRemoteAudio(streamId: string, muted: boolean): Promise<void>;
  /** Every subscribed stream's audio, and streams subscribed later while it holds. */
  muteAllRemoteAudio(muted: boolean): Promise<void>;
  /** `onUserVoiceVolume` every `intervalMs`; 0 or less switches it off. */
  enableVolumeIndication(intervalMs: number): Promise<void>;
  /** The cameras and microphones. */
  mediaDevices(): Promise<MediaDevice[]>;
  /** Sends another camera on one of your streams (same stream id, no renegotiation;
   * the old camera is stopped). After `switchToAudio`, sends video again. -554 unknown
   * stream, -101 not yours, -200 unknown deviceId or a stream without video. */
  changeCamera(streamId: string, deviceId: string): Promise<void>;
  /** As `changeCamera`, for the microphone. */
  changeMicrophone(streamId: string, deviceId: string): Promise<void>;
  /** One of your streams stops sending video (its camera is stopped); the others get
   * `onMediaChanaged` with `voff` 1. `changeCamera` brings video back. */
  switchToAudio(streamId: string): Promise<void>;

  // In-conference interaction. Sizes: messages and sendCmd data at most 4096 bytes
  // (-701 over), transfers at most 256 MiB; -702 when the user shares no conference
  // with you; -101 for an ADMIN-only call by anyone else.
  /** To every other member of the conference, in send order (`onRecvRoomTextMsg`). */
  sendRoomTextMsg(confrId: string, text: string): Promise<void>;
  /** `onRecvRoomCustomMsg(from, cmd, msg)` at every other member. */
  sendRoomCustomMsg(confrId: string, cmd: string, msg: string): Promise<void>;
  /** A small message to a user in a conference with you (`onNotifyCmdData`). */
  sendCmd(userId: string, data: string): Promise<void>;
  /** Sends bytes (copied at the call) to a user in a conference with you over the
   * signaling connection, with flow control; resolves the taskId once the server
   * accepted it. `onSendProgress` follows; the receiver gets `onNotifyBufferData`. */
  sendBuffer(userId: string, data: ArrayBuffer | ArrayBufferView): Promise<number>;
  /** As `sendBuffer`, for a Blob or File (read whole first) or bytes with a name; the
   * receiver gets `onNotifyFileData`. The name defaults to the File's, else "file". */
  sendFile(userId: string, file: Blob | ArrayBuffer | ArrayBufferView, fileName?: string): Promise<number>;
  /** Stops a transfer at both ends: the other end gets `onNotifyCancelSend`. -704 when
   * it already ended. */
  cancelSend(taskId: number): Promise<void>;
  /** An AUDIENCE member asks every ADMIN to speak (`onRequestToTalker` there). */
  requestToTalker(confrId: string, reason?: string): Promise<void>;
  /** ADMIN: silences a member's microphone at its source (by member id or user name);
   * it gets `onMuted`, everyone `onMediaChanaged` with `aoff` 1, and it cannot turn its
   * audio on (-101) until unmuted. */
  muteBymemberId(confrId: string, memberName: string): Promise<void>;
  unmuteBymemberId(confrId: string, memberName: string): Promise<void>;
  /** ADMIN: mutes every member but the ADMINs, and whoever joins while it holds. */
  muteAll(confrId: string): Promise<void>;
  /** ADMIN: lifts muteAll and every single mute. */
  unmuteAll(confrId: string): Promise<void>;
  /** ADMIN: sets one attribute; every member gets `onConfrAttrsUpdated`. Also
   * `setConferenceAttrs(confrId, key, val)`. At most 32 keys, keys 64 and values 1024 bytes. */
  setConferenceAttrs(confrId: string, attr: { key: string; val: string }): Promise<void>;
  deleteConferenceAttrs(confrId: string, key: string): Promise<void>;
  /** The rooms among `confrIds` that exist and that you may see. */
  getRoomInfos(confrIds: string[]): Promise<RoomInfo[]>;
  /** ADMINs and TALKERs, in join order. */
  getAnchorList(confrId: string): Promise<Member[]>;
  /** ADMIN: the AUDIENCE members, in join order. */
  getAudienceList(confrId: string): Promise<Member[]>;
  /** ADMIN: asks `targetUserName`, an ADMIN of `targetConfrId`, for a cross-room PK
   * (`onRequestRoomPK` there; the answer comes as `onRequestRoomPKReply`). -200 your own
   * room, -504 the target is not an ADMIN there, -705 a PK is running or asked. */
  requestRoomPK(confrId: string, targetConfrId: string, targetUserName: string): Promise<void>;
  /** Either ADMIN ends the PK: the foreign streams go (`onStreamRemoved`), then
   * `onQuitRoomPK` in both rooms. */
  quitRoomPK(confrId: string): Promise<void>;

  readonly ConfrType: ConfrTypes;
  readonly Role: Roles;

  onMemberJoined: ((member: Member) => void) | null;
  onMemberExited: ((member: Member, reason: MemberExitReason) => void) | null;
  onMemberRoleChanged: ((member: Member) => void) | null;
  onRoleChanged: ((role: Role, confrId: string) => void) | null;
  onConferenceExit: ((reason: ExitReason, failed: ErrorCode | undefined, confrId: string) => void) | null;
  onStreamAdded: ((member: Member | { id: string }, stream: Stream) => void) | null;
  onStreamRemoved: ((member: Member | { id: string }, stream: Stream) => void) | null;
  /** emedia's own spelling. */
  onMediaChanaged: ((stream: Stream) => void) | null;
  onMediaChanged: ((stream: Stream) => void) | null;
  /** The connection to the server dropped; the SDK is reconnecting (backoff, up to
   * about 45 s) and will resume the session: same member id, role and streams. */
  onReconnecting: (() => void) | null;
  /** The session is back; events missed meanwhile have been delivered. When the
   * server could not resume it, the SDK joined again in full first: the roster was
   * resynced by events and own streams were published again under new ids (the
   * `pubStream` result's `id` is updated). If it cannot come back,
   * `onConferenceExit(4, -9527)` follows instead. */
  onReconnected: (() => void) | null;

  /** A user's presence changed (after `startUserStatusNotify`). */
  onUserStatusChanged: ((status: UserStatus) => void) | null;
  /** Someone calls you or invites you into a conference: `accept` or `reject` it. */
  onInvited: ((invitation: Invitation) => void) | null;
  // Call progress. `callId` (last) is an addition to TRTC calling's hooks, for pages
  // in more than one call.
  /** An invitee accepted and joined the call. */
  onUserEnter: ((userId: string, callId: string) => void) | null;
  onReject: ((userId: string, callId: string) => void) | null;
  /** The invitee is in another call, being rung, or do-not-disturb. */
  onLineBusy: ((userId: string, callId: string) => void) | null;
  /** `code` 0: no answer before the timeout; -601: the user is offline. */
  onNoResp: ((userId: string, code: 0 | -601, callId: string) => void) | null;
  /** A member hung up or left the call's conference. */
  onUserLeave: ((userId: string, callId: string) => void) | null;
  /** At an invitee: the caller (`userId`) hung up before you answered, or (your own
   * id) you answered on another device. */
  onCallingCancel: ((userId: string, callId: string) => void) | null;
  /** The call is over for you; `onConferenceExit` follows. */
  onCallEnd: ((callId: string) => void) | null;
  /** More people are being rung into your call: everyone invited so far. */
  onGroupCallInviteeListUpdate: ((userIds: string[], callId: string) => void) | null;
  /** What became of an `inviteToConference`. */
  onInviteStatus: ((inviteId: string, status: InviteStatus) => void) | null;
  /** A call or invitation method (call, groupCall, accept, reject, hangup,
   * inviteToConference, cancelInvite) failed; its promise rejects too. */
  onError: ((code: ErrorCode, message: string) => void) | null;
  /** Every `enableVolumeIndication` interval: the audio level of each subscribed
   * stream and of each of your own streams with audio. */
  onUserVoiceVolume: ((volumes: VoiceVolume[]) => void) | null;
  /** A camera or microphone was plugged in or out (`devicechange`). */
  onDeviceChanged: (() => void) | null;

  // In-conference interaction: each hook ends with the conference id, an addition
  // for pages in several rooms.
  onRecvRoomTextMsg: ((from: Member, text: string, confrId: string) => void) | null;
  onRecvRoomCustomMsg: ((from: Member, cmd: string, msg: string, confrId: string) => void) | null;
  onNotifyCmdData: ((fromUserId: string, data: string) => void) | null;
  /** At the sender: `sentBytes` is what the receiver holds; the last call has
   * `sentBytes === totalBytes`. */
  onSendProgress: ((taskId: number, sentBytes: number, totalBytes: number) => void) | null;
  onNotifyBufferData: ((fromUserId: string, data: ArrayBuffer, taskId: number) => void) | null;
  /** `blob` is an ArrayBuffer where there is no Blob (mini-programs). */
  onNotifyFileData: ((fromUserId: string, blob: Blob, fileName: string, taskId: number) => void) | null;
  /** The other end cancelled the transfer, or a connection dropped (transfers do not
   * survive a reconnect: send again). */
  onNotifyCancelSend: ((taskId: number) => void) | null;
  /** At every ADMIN: call `agree()` (the applicant becomes TALKER) or `refuse()`;
   * each resolves once the server took the answer (-706 if another ADMIN answered). */
  onRequestToTalker: ((applicant: Member, agree: () => Promise<void>, refuse: () => Promise<void>, reason: string | undefined, confrId: string) => void) | null;
  /** At the applicant; on agreement `onRoleChanged(3)` came first. */
  onRequestToTalkerReply: ((agreed: boolean, confrId: string) => void) | null;
  /** An ADMIN muted you: your microphone is silenced at the source. */
  onMuted: ((confrId: string) => void) | null;
  onUnmuted: ((confrId: string) => void) | null;
  /** The whole attribute set, at every member; a joiner gets it right after joining. */
  onConfrAttrsUpdated: ((attrs: Record<string, string>, confrId: string) => void) | null;
  /** At the asked ADMIN: `agree()` or `refuse()`. */
  onRequestRoomPK: ((from: Member, fromConfrId: string, agree: () => Promise<void>, refuse: () => Promise<void>, confrId: string) => void) | null;
  /** At the asking ADMIN. */
  onRequestRoomPKReply: ((agreed: boolean, targetConfrId: string, confrId: string) => void) | null;
  /** At every member of both rooms; the other host's streams follow as
   * `onStreamAdded(host, stream)`, subscribed as usual. */
  onRoomPKStarted: ((confrId: string, otherConfrId: string) => void) | null;
  onQuitRoomPK: ((confrId: string, otherConfrId: string) => void) | null;
}

/** One entry of `getRoomInfos`. */
export interface RoomInfo {
  confrId: string;
  type: ConfrType;
  memberCount: number;
  /** The earliest ADMIN present. */
  ownerName?: string;
  attrs: Record<string, string>;
}

export interface Emedia {
  /** Set once `ready` resolves. */
  mgr: Manager;
  /** Resolves with `emedia` when the SDK can be used. */
  ready: Promise<Emedia>;
  /** CommonJS entry: true in a WeChat mini-program, where pubStream(rtcId) and
   * subStream(streamId) resolve {@link RtmpStream} instead. */
  miniProgram?: boolean;
  config(options: EmediaOptions): void;
}

declare const emedia: Emedia;
export default emedia;
export { emedia };

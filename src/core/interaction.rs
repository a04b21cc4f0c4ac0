//! What members do in a conference besides media (issue 8): room messages, requests
//! to speak, an ADMIN's mute, attributes and cross-room PK. Most of it passes to the
//! app as the server sent it (`SdkEvent::Interaction`); kept here is what changes this
//! page's own state: being muted silences its microphone at the source, a PK brings
//! streams whose publisher is in another room, and a PK asked for is answered.

use super::{Client, Command, JoinedConference, LocalMedia, OpId, Outcome, SdkEvent};
use emedia_protocol::{ConferenceId, Event, Joined, Request, Response};

impl Client {
    /// The replies to issue 8's requests; the rest go on to `calls.rs`.
    pub(super) fn finish_interaction(&mut self, op: OpId, cmd: Command, resp: Response) {
        let out = match (cmd, resp) {
            (
                Command::Send(Request::RequestRoomPk {
                    confr_id,
                    target_confr_id,
                    ..
                }),
                Response::Done,
            ) => {
                if let Some(conf) = self.conferences.get_mut(&confr_id) {
                    conf.pk_asked = Some(target_confr_id);
                }
                Outcome::Done
            }
            (
                Command::Send(
                    Request::SendRoomMsg { .. }
                    | Request::SendCmd { .. }
                    | Request::CancelTransfer { .. }
                    | Request::RequestToTalker { .. }
                    | Request::AnswerTalkerRequest { .. }
                    | Request::Mute { .. }
                    | Request::MuteAll { .. }
                    | Request::AnswerRoomPk { .. }
                    | Request::QuitRoomPk { .. }
                    | Request::SetConferenceAttrs { .. }
                    | Request::DeleteConferenceAttrs { .. },
                ),
                Response::Done,
            ) => Outcome::Done,
            (
                Command::Send(Request::SendData { .. }),
                Response::TransferStarted {
                    transfer_id,
                    chunk_bytes,
                    window_bytes,
                },
            ) => Outcome::TransferStarted {
                transfer_id,
                chunk_bytes,
                window_bytes,
            },
            (Command::Send(Request::GetRoomInfos { .. }), Response::RoomInfos(list)) => {
                Outcome::RoomInfos(list)
            }
            (
                Command::Send(
                    Request::GetAnchorList { confr_id } | Request::GetAudienceList { confr_id },
                ),
                Response::Members(members),
            ) => Outcome::Members { confr_id, members },
            (cmd, resp) => return self.finish_call(op, cmd, resp),
        };
        self.complete(op, Ok(out));
    }

    /// A conference event of issue 8 (the caller checked that it names a conference).
    pub(super) fn room_event(&mut self, event: Event) {
        let Some(conf) = event.confr_id().and_then(|id| self.conferences.get_mut(id)) else {
            return;
        };
        match &event {
            Event::Muted { muted, .. } => set_muted(conf, *muted, &mut self.local_media),
            Event::RoomPkRefused {
                confr_id,
                target_confr_id,
            } => {
                conf.pk_asked = None;
                self.events.push(SdkEvent::RoomPkAnswered {
                    confr_id: confr_id.clone(),
                    target_confr_id: target_confr_id.clone(),
                    agree: false,
                });
                return;
            }
            // The PK this page asked for: the start is its answer too.
            Event::RoomPkStarted {
                confr_id,
                other_confr_id,
            } if conf.pk_asked.as_ref() == Some(other_confr_id) => {
                conf.pk_asked = None;
                let answer = SdkEvent::RoomPkAnswered {
                    confr_id: confr_id.clone(),
                    target_confr_id: other_confr_id.clone(),
                    agree: true,
                };
                self.events.push(SdkEvent::Interaction(event));
                self.events.push(answer);
                return;
            }
            // The foreign streams' `stream_removed` came first.
            Event::RoomPkEnded { .. } => conf.guests.clear(),
            _ => {}
        }
        self.events.push(SdkEvent::Interaction(event));
    }

    /// What a joiner learns beyond members and streams: the room's attributes (when
    /// it has any) and that an ADMIN's mute holds for it.
    pub(super) fn room_state_on_join(&mut self, joined: &Joined) {
        let confr_id = &joined.confr_id;
        if !joined.attrs.is_empty() {
            self.events
                .push(SdkEvent::Interaction(Event::ConfrAttrsUpdated {
                    confr_id: confr_id.clone(),
                    attrs: joined.attrs.clone(),
                }));
        }
        if joined.muted {
            self.room_event(Event::Muted {
                confr_id: confr_id.clone(),
                muted: true,
            });
        }
    }

    /// Whether an ADMIN's mute holds for this page in `confr_id`: it may not turn its
    /// audio on (the server refuses it too).
    pub fn muted_in(&self, confr_id: &ConferenceId) -> bool {
        self.conferences.get(confr_id).is_some_and(|c| c.muted)
    }
}

/// Muted or unmuted by an ADMIN: this page's audio follows at the source, and its own
/// streams' `aoff` with it (the server changed them for everyone else already).
fn set_muted(conf: &mut JoinedConference, muted: bool, local: &mut Vec<LocalMedia>) {
    conf.muted = muted;
    let own = conf
        .streams
        .iter_mut()
        .filter(|s| s.audio && conf.published.contains(&s.id));
    for s in own {
        s.aoff = muted;
        local.push(LocalMedia::SilenceSource {
            stream_id: s.id.clone(),
            silent: muted,
        });
    }
}

//! Mini-program media over RTMP. A WeChat mini-program has no WebRTC: it pushes with
//! `<live-pusher>` and plays with `<live-player>` through an RTMP server (nginx with
//! its rtmp module), and this core hands out the URLs, built from the templates the
//! server is configured with. Each URL carries a token for one stream and one
//! action, which the RTMP server hands back in its on_publish / on_play callbacks.
//! A pushed stream is announced (onStreamAdded) when its push arrives and removed
//! when the push ends, unpubStream is called or its publisher leaves.

use super::publishing::{no_stream, Draft};
use super::{err, ConferenceStore, Core, Reply, SessionId};
use super::{Negotiation, Stream};
use crate::auth::{RtmpAction, RtmpClaims};
use emedia_protocol::{ConferenceId, ErrorBody, ErrorCode, Event, Response, StreamId};

/// URL templates; `{streamId}` and `{token}` are filled in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RtmpUrls {
    pub push: String,
    pub play: String,
}

impl<S: ConferenceStore> Core<S> {
    fn rtmp_url(
        &self,
        confr_id: &ConferenceId,
        stream_id: &StreamId,
        act: RtmpAction,
        now_ms: u64,
    ) -> Result<String, ErrorBody> {
        let Some(urls) = &self.config.rtmp else {
            return Err(err(
                ErrorCode::NotSupported,
                "this server has no RTMP URLs configured (--rtmp-push-url, --rtmp-play-url)",
            ));
        };
        let token = self.keys.mint_rtmp(&RtmpClaims {
            cid: confr_id.clone(),
            stream: stream_id.to_string(),
            act,
            exp: now_ms / 1000 + self.config.ticket_ttl_secs,
        });
        let template = match act {
            RtmpAction::Push => &urls.push,
            RtmpAction::Play => &urls.play,
        };
        Ok(template
            .replace("{streamId}", stream_id.as_str())
            .replace("{token}", &token))
    }

    /// `pubStream` in a mini-program: a stream that waits for its push, and its URL.
    pub(super) fn publish_rtmp(
        &mut self,
        sid: SessionId,
        confr_id: &ConferenceId,
        d: Draft,
        now_ms: u64,
    ) -> Reply {
        let member = self.check_publish(sid, confr_id, &d, None)?;
        let stream_id = StreamId(self.new_id('S'));
        let url = self.rtmp_url(confr_id, &stream_id, RtmpAction::Push, now_ms)?;
        let info = d.into_info(stream_id, member);
        let stream = Stream {
            info: info.clone(),
            owner: sid,
            peer: None,
            state: Negotiation::AwaitingPush,
            subscribers: Vec::new(),
            mirror: false,
        };
        if let Some(conf) = self.store.get_mut(confr_id) {
            conf.streams.insert(stream);
        }
        Ok(Response::Rtmp { stream: info, url })
    }

    /// `subStream` in a mini-program: the play URL of a live pushed stream.
    pub(super) fn play_rtmp(
        &mut self,
        sid: SessionId,
        confr_id: &ConferenceId,
        stream_id: &StreamId,
        now_ms: u64,
    ) -> Reply {
        self.own_seat(sid, confr_id)?;
        let stream = self.find_stream(confr_id, stream_id)?;
        if stream.peer.is_some() {
            return Err(err(
                ErrorCode::NotSupported,
                "that stream is published over WebRTC; a mini-program plays only streams pushed over RTMP",
            ));
        }
        if stream.state != Negotiation::Live {
            return Err(err(
                ErrorCode::PublishInactive,
                "that stream is not pushed yet",
            ));
        }
        let info = stream.info.clone();
        let url = self.rtmp_url(confr_id, stream_id, RtmpAction::Play, now_ms)?;
        Ok(Response::Rtmp { stream: info, url })
    }

    /// The RTMP server's on_publish: the push may start if its token is good and its
    /// stream still waits; the stream is then live and announced.
    pub fn rtmp_push_started(
        &mut self,
        name: &str,
        token: &str,
        now_ms: u64,
    ) -> Result<(), ErrorBody> {
        let claims = self
            .keys
            .verify_rtmp(token, name, RtmpAction::Push, now_ms / 1000)?;
        let stream_id = StreamId(claims.stream);
        let Some(conf) = self.store.get_mut(&claims.cid) else {
            return Err(err(
                ErrorCode::ConferenceNotFound,
                "conference does not exist",
            ));
        };
        let stream = conf
            .streams
            .get_mut(&stream_id)
            .ok_or_else(|| no_stream(&stream_id))?;
        if stream.state != Negotiation::AwaitingPush {
            return Err(err(
                ErrorCode::BadRequest,
                "that stream is already being pushed",
            ));
        }
        stream.state = Negotiation::Live;
        let (owner, info) = (stream.owner, stream.info.clone());
        let event = Event::StreamAdded {
            confr_id: claims.cid.clone(),
            stream: info,
            member: None,
        };
        conf.broadcast(event, Some(owner), &mut self.out);
        Ok(())
    }

    /// The RTMP server's on_publish_done: the push ended, so does the stream.
    pub fn rtmp_push_ended(&mut self, name: &str, token: &str) -> Result<(), ErrorBody> {
        // The token may have expired during a long push; its signature still counts.
        let claims = self.keys.verify_rtmp(token, name, RtmpAction::Push, 0)?;
        let stream_id = StreamId(claims.stream);
        let live = self
            .store
            .get(&claims.cid)
            .and_then(|c| c.streams.get(&stream_id))
            .is_some_and(|s| s.state == Negotiation::Live);
        if live {
            self.end_stream(&claims.cid, &stream_id, None);
        }
        Ok(())
    }

    /// The RTMP server's on_play: a player may read a live pushed stream.
    pub fn rtmp_play_allowed(&self, name: &str, token: &str, now_ms: u64) -> Result<(), ErrorBody> {
        let claims = self
            .keys
            .verify_rtmp(token, name, RtmpAction::Play, now_ms / 1000)?;
        let live = self
            .store
            .get(&claims.cid)
            .and_then(|c| c.streams.get(&StreamId(claims.stream)))
            .is_some_and(|s| s.state == Negotiation::Live);
        if live {
            Ok(())
        } else {
            Err(err(
                ErrorCode::PublishInactive,
                "that stream is not pushed now",
            ))
        }
    }
}

//! ICE restarts of a publishing or subscribing connection: answered on the same
//! peer, nothing else changes, one offer at a time.

use super::*;
use emedia_protocol::StreamId;

fn restart(confr: &ConferenceId, stream_id: Option<&StreamId>) -> Request {
    Request::RestartIce {
        confr_id: confr.clone(),
        stream_id: stream_id.cloned(),
        sdp: "restart offer".into(),
    }
}

fn last_restart(h: &Harness) -> PeerId {
    match h.media.last() {
        Some(MediaCommand::RestartIce { peer, offer }) => {
            assert_eq!(offer, "restart offer");
            *peer
        }
        other => panic!("no restart sent: {other:?}"),
    }
}

#[test]
fn a_publisher_and_a_subscriber_restart_ice_on_their_own_peers() {
    let (mut h, confr, [a, b, c]) = three();
    let stream = h.publish(b, &confr, "cam", StreamType::Camera).unwrap();
    let publisher = h
        .core
        .conference(&confr)
        .unwrap()
        .streams
        .get(&stream.id)
        .unwrap()
        .peer;
    let sub = h.subscribe(c, &confr, &stream).unwrap();
    h.events(a);

    let (_, early) = h.negotiate(b, restart(&confr, Some(&stream.id)));
    assert!(early.is_none(), "answered when the SFU answers");
    assert_eq!(Some(last_restart(&h)), publisher);
    assert_eq!(
        h.sfu_answers(publisher.unwrap()),
        Ok(Response::IceRestarted {
            sdp: "answer".into()
        })
    );

    let (_, early) = h.negotiate(c, restart(&confr, None));
    assert!(early.is_none());
    assert_eq!(last_restart(&h), sub);
    assert_eq!(
        h.sfu_answers(sub),
        Ok(Response::IceRestarted {
            sdp: "answer".into()
        })
    );
    // Nobody else heard a thing, and the stream is the same.
    assert!(h.events(a).is_empty());
    assert_eq!(h.core.stream_count(), 1);
    assert_eq!(h.core.peer_count(), 2);
    assert_eq!(h.core.ice_restart_count(), 2);
}

#[test]
fn restarts_are_refused_for_others_streams_busy_peers_and_missing_connections() {
    let (mut h, confr, [a, b, c]) = three();
    let stream = h.publish(b, &confr, "cam", StreamType::Camera).unwrap();
    let code = |r: Option<Reply>| r.expect("refused at once").unwrap_err().code;
    assert_eq!(
        code(h.negotiate(a, restart(&confr, Some(&stream.id))).1),
        ErrorCode::IllegalRights
    );
    assert_eq!(
        code(h.negotiate(a, restart(&confr, None)).1),
        ErrorCode::BadRequest,
        "no subscribing connection to restart"
    );
    assert_eq!(
        code(
            h.negotiate(b, restart(&confr, Some(&StreamId("S0".into()))))
                .1
        ),
        ErrorCode::PublishInactive
    );
    // One offer at a time: a second restart, or a subscribe on a restarting connection.
    let sub = h.subscribe(c, &confr, &stream).unwrap();
    assert!(h.negotiate(c, restart(&confr, None)).1.is_none());
    assert_eq!(
        code(h.negotiate(c, restart(&confr, None)).1),
        ErrorCode::BadRequest
    );
    let other = h.publish(a, &confr, "cam", StreamType::Camera).unwrap();
    h.events(c);
    let subscribe = Request::Subscribe {
        confr_id: confr.clone(),
        stream_id: other.id.clone(),
        sdp: "offer".into(),
        audio_mid: Some("2".into()),
        video_mid: Some("3".into()),
    };
    assert_eq!(code(h.negotiate(c, subscribe).1), ErrorCode::BadRequest);
    // A refused restart offer leaves the connection and its subscription as they were.
    h.core.handle_media(MediaEvent::Refused {
        peer: sub,
        code: ErrorCode::BadParameters,
        message: "bad offer".into(),
    });
    let replies = h.drain();
    assert_eq!(replies.len(), 1);
    assert_eq!(
        replies[0].2.as_ref().unwrap_err().code,
        ErrorCode::BadParameters
    );
    assert!(h.events(c).is_empty(), "no subscriptions lost");
    assert_eq!(h.core.peer_count(), 3);
}

#[test]
fn a_restart_pending_when_its_peer_goes_is_answered() {
    let (mut h, confr, [_, b, _]) = three();
    let stream = h.publish(b, &confr, "cam", StreamType::Camera).unwrap();
    assert!(h
        .negotiate(b, restart(&confr, Some(&stream.id)))
        .1
        .is_none());
    // The member unpublishes before the SFU answers: both requests get their reply.
    let unpublish = Request::Unpublish {
        confr_id: confr.clone(),
        stream_id: stream.id.clone(),
    };
    h.rid += 1;
    let rid = h.rid;
    h.core.handle_request(
        b,
        ClientMessage {
            rid,
            req: unpublish,
        },
        h.now,
    );
    let replies = h.drain();
    assert_eq!(replies.len(), 2, "{replies:?}");
    assert!(replies
        .iter()
        .any(|(_, r, reply)| *r == rid && reply == &Ok(Response::Done)));
    assert!(replies
        .iter()
        .any(|(_, r, reply)| *r != rid
            && reply.as_ref().unwrap_err().code == ErrorCode::PublishInactive));
}

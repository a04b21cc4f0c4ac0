//! Issue 8 in the core: messages, transfers, requests to speak, mutes, attributes,
//! room information and PK, with their refusals (`server/tests/interaction.rs` runs
//! the same over real sockets).

use super::*;
use bytes::Bytes;
use emedia_protocol::{DataFrame, MAX_ATTR_VALUE_BYTES, MAX_MESSAGE_BYTES, MAX_TRANSFER_BYTES};

fn room_msg(h: &mut Harness, sid: ConnId, confr: &ConferenceId, text: &str) -> Reply {
    let msg = RoomMsg::Text(text.into());
    h.req(
        sid,
        Request::SendRoomMsg {
            confr_id: confr.clone(),
            msg,
        },
    )
}

fn chunk(transfer: u32, offset: u64, bytes: &[u8]) -> Bytes {
    let header = DataFrame::Chunk { transfer, offset }.header();
    Bytes::from([header.as_slice(), bytes].concat())
}

fn ack(transfer: u32, received: u64) -> Bytes {
    Bytes::copy_from_slice(&DataFrame::Ack { transfer, received }.header())
}

/// Sends a binary frame; the error reply if it was refused.
fn binary(h: &mut Harness, sid: ConnId, frame: Bytes) -> Option<ErrorCode> {
    h.core.handle_binary(sid, frame, h.now);
    let replies = h.drain();
    assert!(replies.len() <= 1);
    replies.first().map(|(_, rid, r)| {
        assert_eq!(*rid, 0, "binary frames have no request id");
        code(r.clone())
    })
}

fn start(h: &mut Harness, from: ConnId, to: &str, size: u64) -> Result<u32, ErrorBody> {
    let req = Request::SendData {
        to: to.into(),
        size,
        name: Some("f.bin".into()),
    };
    h.req(from, req).map(|r| match r {
        Response::TransferStarted { transfer_id, .. } => transfer_id,
        other => panic!("send_data: {other:?}"),
    })
}

#[test]
fn room_messages_reach_every_other_member_in_order() {
    let (mut h, confr, [a, b, c]) = three();
    for i in 0..5 {
        room_msg(&mut h, b, &confr, &format!("m{i}")).unwrap();
    }
    let custom = Request::SendRoomMsg {
        confr_id: confr.clone(),
        msg: RoomMsg::Custom {
            cmd: "like".into(),
            msg: "3".into(),
        },
    };
    h.req(c, custom).unwrap();
    let want: Vec<String> = (0..5).map(|i| format!("text from bob: m{i}")).collect();
    assert_eq!(names(&h.events(a))[..5], want[..]);
    assert_eq!(names(&h.events(c)), want);
    assert_eq!(names(&h.events(b)), ["custom from carol: like 3"]);
    // Too large, empty, or from outside: refused, nobody hears anything.
    let big = "x".repeat(MAX_MESSAGE_BYTES + 1);
    assert_eq!(code(room_msg(&mut h, a, &confr, &big)), ErrorCode::TooLarge);
    assert_eq!(
        code(room_msg(&mut h, a, &confr, "")),
        ErrorCode::BadParameters
    );
    let d = h.login("dave");
    assert_eq!(
        code(room_msg(&mut h, d, &confr, "hi")),
        ErrorCode::MemberInvalid
    );
    assert!(h.events(b).is_empty() && h.events(a).is_empty());
}

#[test]
fn commands_go_to_users_in_a_shared_conference_only() {
    let (mut h, _confr, [a, b, _c]) = three();
    let d = h.login("dave");
    let send = |to: &str, data: &str| Request::SendCmd {
        to: to.into(),
        data: data.into(),
    };
    h.req(a, send("bob", "hello")).unwrap();
    assert_eq!(names(&h.events(b)), ["cmd from alice: hello"]);
    assert_eq!(
        code(h.req(a, send("dave", "x"))),
        ErrorCode::NotInConference
    );
    assert_eq!(code(h.req(d, send("bob", "x"))), ErrorCode::NotInConference);
    assert_eq!(
        code(h.req(a, send("nobody", "x"))),
        ErrorCode::NotInConference
    );
    assert_eq!(code(h.req(a, send("alice", "x"))), ErrorCode::BadParameters);
    let big = "x".repeat(MAX_MESSAGE_BYTES + 1);
    assert_eq!(code(h.req(a, send("bob", &big))), ErrorCode::TooLarge);
    assert!(h.events(b).is_empty());
}

#[test]
fn a_transfer_is_relayed_within_its_window_and_bad_chunks_change_nothing() {
    let (mut h, _confr, [a, b, c]) = three();
    let size = 3 * DataFrame::MAX_CHUNK_BYTES as u64;
    let id = start(&mut h, a, "bob", size).unwrap();
    assert_eq!(names(&h.events(b)), [format!("data from alice: {size}")]);
    let part = vec![7u8; DataFrame::MAX_CHUNK_BYTES];
    let step = part.len() as u64;
    assert_eq!(binary(&mut h, a, chunk(id, 0, &part)), None);
    // Duplicated, out of order, oversized, or not the sender's: refused.
    assert_eq!(
        binary(&mut h, a, chunk(id, 0, &part)),
        Some(ErrorCode::BadChunk)
    );
    assert_eq!(
        binary(&mut h, a, chunk(id, 2 * step, &part)),
        Some(ErrorCode::BadChunk)
    );
    let too_big = vec![0u8; DataFrame::MAX_CHUNK_BYTES + 1];
    assert_eq!(
        binary(&mut h, a, chunk(id, step, &too_big)),
        Some(ErrorCode::BadChunk)
    );
    assert_eq!(
        binary(&mut h, c, chunk(id, step, &part)),
        Some(ErrorCode::TransferNotFound)
    );
    assert_eq!(
        binary(&mut h, a, Bytes::from_static(b"nope")),
        Some(ErrorCode::BadRequest)
    );
    // The receiver got exactly the one good chunk, as sent.
    let got = h.data.remove(&b).unwrap();
    assert_eq!(got.len(), 1);
    assert_eq!(&got[0][DataFrame::HEADER_BYTES..], &part[..]);
    // Acks travel back; acking more than was sent is refused.
    assert_eq!(
        binary(&mut h, b, ack(id, 2 * step)),
        Some(ErrorCode::BadChunk)
    );
    assert_eq!(binary(&mut h, b, ack(id, step)), None);
    assert_eq!(h.data.remove(&a).unwrap(), [ack(id, step)]);
    for offset in [step, 2 * step] {
        assert_eq!(binary(&mut h, a, chunk(id, offset, &part)), None);
    }
    assert_eq!(binary(&mut h, b, ack(id, size)), None);
    // Complete: the transfer is gone.
    assert_eq!(
        binary(&mut h, b, ack(id, size)),
        Some(ErrorCode::TransferNotFound)
    );
}

#[test]
fn the_sender_may_not_run_ahead_of_the_window() {
    let (mut h, _confr, [a, b, _c]) = three();
    let size = 2 * transfers::WINDOW_BYTES;
    let id = start(&mut h, a, "bob", size).unwrap();
    let part = vec![1u8; DataFrame::MAX_CHUNK_BYTES];
    let mut offset = 0;
    while offset + part.len() as u64 <= transfers::WINDOW_BYTES {
        assert_eq!(binary(&mut h, a, chunk(id, offset, &part)), None);
        offset += part.len() as u64;
    }
    assert_eq!(
        binary(&mut h, a, chunk(id, offset, &part)),
        Some(ErrorCode::BadChunk)
    );
    assert_eq!(binary(&mut h, b, ack(id, offset)), None);
    assert_eq!(binary(&mut h, a, chunk(id, offset, &part)), None);
}

#[test]
fn cancelling_or_dropping_ends_a_transfer_at_both_ends() {
    let (mut h, _confr, [a, b, _c]) = three();
    let id = start(&mut h, a, "bob", 100).unwrap();
    h.events(b);
    let cancel = Request::CancelTransfer { transfer_id: id };
    h.req(b, cancel.clone()).unwrap();
    assert_eq!(names(&h.events(a)), [format!("transfer {id} cancelled")]);
    assert_eq!(code(h.req(a, cancel)), ErrorCode::TransferNotFound);
    assert_eq!(
        binary(&mut h, a, chunk(id, 0, b"x")),
        Some(ErrorCode::TransferNotFound)
    );
    // A dropped connection cancels too: bytes are not kept for a resume.
    let id = start(&mut h, a, "bob", 100).unwrap();
    h.core.handle_disconnect(b, false, h.now);
    h.drain();
    assert_eq!(names(&h.events(a)), [format!("transfer {id} cancelled")]);
    // Limits: size 0, over the maximum, to someone not beside you.
    assert_eq!(code(start(&mut h, a, "carol", 0)), ErrorCode::BadParameters);
    let huge = MAX_TRANSFER_BYTES + 1;
    assert_eq!(code(start(&mut h, a, "carol", huge)), ErrorCode::TooLarge);
    assert_eq!(
        code(start(&mut h, a, "nobody", 5)),
        ErrorCode::NotInConference
    );
}

#[test]
fn a_request_to_speak_is_agreed_or_refused_once() {
    let (mut h, confr, [a, b, c]) = three();
    let carol = h
        .core
        .conference(&confr)
        .unwrap()
        .find("carol")
        .unwrap()
        .member
        .id
        .clone();
    let ask = Request::RequestToTalker {
        confr_id: confr.clone(),
        reason: Some("question".into()),
    };
    assert_eq!(code(h.req(b, ask.clone())), ErrorCode::BadParameters);
    h.req(c, ask.clone()).unwrap();
    assert_eq!(names(&h.events(a)), ["asks to talk carol"]);
    assert!(h.events(b).is_empty(), "only ADMINs are asked");
    assert_eq!(code(h.req(c, ask.clone())), ErrorCode::BadParameters);
    let answer = |agree| Request::AnswerTalkerRequest {
        confr_id: confr.clone(),
        member_id: carol.clone(),
        agree,
    };
    assert_eq!(code(h.req(b, answer(true))), ErrorCode::IllegalRights);
    h.req(a, answer(false)).unwrap();
    assert_eq!(names(&h.events(c)), ["talk answer false"]);
    assert_eq!(code(h.req(a, answer(true))), ErrorCode::RequestNotFound);
    // Asked again and agreed: a TALKER first, then the answer.
    h.req(c, ask).unwrap();
    h.req(a, answer(true)).unwrap();
    assert_eq!(names(&h.events(c)), ["my role 3", "talk answer true"]);
    assert_eq!(names(&h.events(b)), ["joined carol"]);
}

fn mute(h: &mut Harness, by: ConnId, confr: &ConferenceId, who: &str, muted: bool) -> Reply {
    let req = Request::Mute {
        confr_id: confr.clone(),
        member: who.into(),
        muted,
    };
    h.req(by, req)
}

fn set_audio(
    h: &mut Harness,
    sid: ConnId,
    confr: &ConferenceId,
    s: &StreamInfo,
    on: bool,
) -> Reply {
    let req = Request::SetMedia {
        confr_id: confr.clone(),
        stream_id: s.id.clone(),
        aoff: !on,
        voff: false,
    };
    h.req(sid, req)
}

#[test]
fn an_admin_mutes_at_the_source_and_the_muted_cannot_unmute_themselves() {
    let (mut h, confr, [a, b, c]) = three();
    let stream = h.publish(b, &confr, "cam", StreamType::Camera).unwrap();
    h.events(a);
    h.events(c);
    mute(&mut h, a, &confr, "bob", true).unwrap();
    assert_eq!(names(&h.events(b)), ["muted true"]);
    assert_eq!(names(&h.events(a)), ["stream updated cam a1 v0"]);
    assert_eq!(
        code(set_audio(&mut h, b, &confr, &stream, true)),
        ErrorCode::IllegalRights
    );
    mute(&mut h, a, &confr, "bob", false).unwrap();
    assert_eq!(names(&h.events(b)), ["muted false"]);
    assert_eq!(
        names(&h.events(c)),
        ["stream updated cam a1 v0", "stream updated cam a0 v0"]
    );
    set_audio(&mut h, b, &confr, &stream, false).unwrap();
    set_audio(&mut h, b, &confr, &stream, true).unwrap();
    // muteAll: everyone but the ADMINs, later joiners too, until unmuteAll.
    let all = |muted| Request::MuteAll {
        confr_id: confr.clone(),
        muted,
    };
    assert_eq!(code(h.req(b, all(true))), ErrorCode::IllegalRights);
    assert_eq!(
        code(mute(&mut h, c, &confr, "bob", true)),
        ErrorCode::IllegalRights
    );
    h.events(a);
    h.events(c);
    h.req(a, all(true)).unwrap();
    assert_eq!(names(&h.events(b)), ["muted true"]);
    assert_eq!(
        names(&h.events(c)),
        ["stream updated cam a1 v0", "muted true"]
    );
    assert!(!names(&h.events(a)).contains(&"muted true".to_string()));
    assert_eq!(
        code(set_audio(&mut h, b, &confr, &stream, true)),
        ErrorCode::IllegalRights
    );
    let d = h.login("dave");
    assert!(h.join_pw(d, &confr, Some("pw")).muted);
    // A new stream of a muted member starts with its audio off.
    let second = h.publish(d, &confr, "cam", StreamType::Camera).unwrap();
    assert!(second.aoff);
    // Promoted to ADMIN: free to speak; unmuteAll frees the rest.
    h.grant(a, &confr, "bob", Role::Admin).unwrap();
    assert!(names(&h.events(b)).contains(&"muted false".to_string()));
    h.req(a, all(false)).unwrap();
    assert!(names(&h.events(d)).contains(&"muted false".to_string()));
    assert_eq!(
        code(mute(&mut h, a, &confr, "alice", true)),
        ErrorCode::BadParameters
    );
    assert_eq!(
        code(mute(&mut h, a, &confr, "nobody", true)),
        ErrorCode::MemberInvalid
    );
}

#[test]
fn attributes_reach_members_and_joiners_and_only_admins_set_them() {
    let (mut h, confr, [a, b, c]) = three();
    let set = |key: &str, val: &str| Request::SetConferenceAttrs {
        confr_id: confr.clone(),
        key: key.into(),
        val: val.into(),
    };
    h.req(a, set("topic", "rust")).unwrap();
    for s in [a, b, c] {
        assert_eq!(names(&h.events(s)), ["attrs 1"]);
    }
    assert_eq!(code(h.req(c, set("x", "y"))), ErrorCode::IllegalRights);
    assert_eq!(code(h.req(b, set("x", "y"))), ErrorCode::IllegalRights);
    let long = "v".repeat(MAX_ATTR_VALUE_BYTES + 1);
    assert_eq!(code(h.req(a, set("x", &long))), ErrorCode::TooLarge);
    assert_eq!(code(h.req(a, set("", "y"))), ErrorCode::BadParameters);
    let d = h.login("dave");
    let joined = h.join_pw(d, &confr, Some("pw"));
    assert_eq!(joined.attrs.get("topic").map(String::as_str), Some("rust"));
    let del = Request::DeleteConferenceAttrs {
        confr_id: confr.clone(),
        key: "topic".into(),
    };
    h.events(b);
    h.req(a, del.clone()).unwrap();
    assert_eq!(names(&h.events(b)), ["attrs 0"]);
    h.req(a, del).unwrap();
    assert!(
        h.events(b).is_empty(),
        "deleting what is not there changes nothing"
    );
}

#[test]
fn room_infos_and_member_lists() {
    let (mut h, confr, [a, b, c]) = three();
    let open = h.room(b, "open", None).unwrap().confr_id;
    let d = h.login("dave");
    let infos = |h: &mut Harness, sid| match h.req(
        sid,
        Request::GetRoomInfos {
            confr_ids: vec![confr.clone(), open.clone(), "nope".into()],
        },
    ) {
        Ok(Response::RoomInfos(v)) => v,
        other => panic!("{other:?}"),
    };
    // A password hides the first room from those outside it.
    let outside = infos(&mut h, d);
    assert_eq!(outside.len(), 1);
    assert_eq!(outside[0].owner_name.as_deref(), Some("bob"));
    let inside = infos(&mut h, c);
    assert_eq!(inside[0].member_count, 3);
    assert_eq!(inside[0].owner_name.as_deref(), Some("alice"));
    let list = |h: &mut Harness, sid, anchors: bool| {
        let confr_id = confr.clone();
        let req = if anchors {
            Request::GetAnchorList { confr_id }
        } else {
            Request::GetAudienceList { confr_id }
        };
        h.req(sid, req).map(|r| match r {
            Response::Members(m) => m.into_iter().map(|m| m.name).collect::<Vec<_>>(),
            other => panic!("{other:?}"),
        })
    };
    assert_eq!(list(&mut h, c, true).unwrap(), ["alice", "bob"]);
    assert_eq!(list(&mut h, a, false).unwrap(), ["carol"]);
    assert_eq!(code(list(&mut h, b, false)), ErrorCode::IllegalRights);
    assert_eq!(code(list(&mut h, d, true)), ErrorCode::MemberInvalid);
}

#[test]
fn a_pk_mirrors_the_hosts_streams_across_and_quitting_removes_them() {
    let (mut h, one, [a, b, _c]) = three();
    let e = h.login("erin");
    let f = h.login("frank");
    let two = h.room(e, "two", None).unwrap().confr_id;
    h.room(f, "two", None).unwrap();
    let cam_a = h.publish(a, &one, "a-cam", StreamType::Camera).unwrap();
    let cam_e = h.publish(e, &two, "e-cam", StreamType::Camera).unwrap();
    for s in [a, b, e, f] {
        h.events(s);
    }
    let ask = |from: &ConferenceId, to: &ConferenceId, user: &str| Request::RequestRoomPk {
        confr_id: from.clone(),
        target_confr_id: to.clone(),
        target_user: user.into(),
    };
    assert_eq!(
        code(h.req(a, ask(&one, &one, "alice"))),
        ErrorCode::BadParameters
    );
    assert_eq!(
        code(h.req(a, ask(&one, &two, "frank"))),
        ErrorCode::MemberInvalid
    );
    assert_eq!(
        code(h.req(b, ask(&one, &two, "erin"))),
        ErrorCode::IllegalRights
    );
    h.req(a, ask(&one, &two, "erin")).unwrap();
    assert_eq!(names(&h.events(e)), ["pk asked by alice"]);
    assert_eq!(code(h.req(e, ask(&two, &one, "alice"))), ErrorCode::PkBusy);
    let answer = Request::AnswerRoomPk {
        confr_id: two.clone(),
        from_confr_id: one.clone(),
        agree: true,
    };
    h.req(e, answer.clone()).unwrap();
    assert_eq!(names(&h.events(b)), ["pk started", "stream added e-cam"]);
    assert_eq!(names(&h.events(f)), ["pk started", "stream added a-cam"]);
    assert_eq!(code(h.req(e, answer)), ErrorCode::RequestNotFound);
    // Frank subscribes to alice's camera like to a stream of his own room: the SFU
    // routes alice's publisher to his connection.
    let source = h
        .core
        .conference(&one)
        .unwrap()
        .streams
        .get(&cam_a.id)
        .unwrap()
        .peer
        .unwrap();
    let sub = h.subscribe(f, &two, &cam_a).unwrap();
    assert!(h.media.iter().any(|m| matches!(
        m,
        MediaCommand::Subscribe { peer, source: s, .. } if *peer == sub && *s == source
    )));
    // Quitting: mirrors go first, the sources stay.
    let closes_before = closes(&h.media);
    h.req(
        a,
        Request::QuitRoomPk {
            confr_id: one.clone(),
        },
    )
    .unwrap();
    assert_eq!(names(&h.events(f)), ["stream removed a-cam", "pk ended"]);
    assert_eq!(names(&h.events(b)), ["stream removed e-cam", "pk ended"]);
    assert_eq!(closes(&h.media), closes_before, "no source closed");
    assert!(h.media.iter().any(|m| matches!(
        m,
        MediaCommand::Unroute { peer, source: s } if *peer == sub && *s == source
    )));
    assert!(h
        .core
        .conference(&two)
        .unwrap()
        .streams
        .get(&cam_e.id)
        .is_some());
    let quit = Request::QuitRoomPk {
        confr_id: two.clone(),
    };
    assert_eq!(code(h.req(e, quit)), ErrorCode::RequestNotFound);
}

#[test]
fn a_pk_ends_when_a_host_leaves_or_refuses() {
    let (mut h, one, [a, b, _c]) = three();
    let e = h.login("erin");
    let two = h.room(e, "two", None).unwrap().confr_id;
    let ask = Request::RequestRoomPk {
        confr_id: one.clone(),
        target_confr_id: two.clone(),
        target_user: "erin".into(),
    };
    h.req(a, ask.clone()).unwrap();
    let refuse = Request::AnswerRoomPk {
        confr_id: two.clone(),
        from_confr_id: one.clone(),
        agree: false,
    };
    h.req(e, refuse).unwrap();
    assert_eq!(names(&h.events(a)), ["pk refused"]);
    h.req(a, ask).unwrap();
    let agree = Request::AnswerRoomPk {
        confr_id: two.clone(),
        from_confr_id: one.clone(),
        agree: true,
    };
    h.req(e, agree).unwrap();
    let cam = h.publish(e, &two, "e-cam", StreamType::Camera).unwrap();
    assert!(names(&h.events(b)).contains(&"stream added e-cam".to_string()));
    // Erin leaves her room, which ends with her: the PK ends in room one.
    h.req(
        e,
        Request::Exit {
            confr_id: two.clone(),
        },
    )
    .unwrap();
    assert_eq!(names(&h.events(b)), ["stream removed e-cam", "pk ended"]);
    assert!(h.core.conference(&one).unwrap().pk.is_none());
    assert!(h
        .core
        .conference(&one)
        .unwrap()
        .streams
        .get(&cam.id)
        .is_none());
}

//! In-conference interaction (issue 8) in the core: transfers at both ends (window,
//! acks, completion, cancel, a dropped link), being muted, PK answers and guests,
//! attributes and mute on join, and the replies of the new requests.

use super::*;
use emedia_protocol::{Attrs, RoomMsg, StreamType};

fn event(e: Event) -> ServerMessage {
    ServerMessage::Event(e)
}

fn data(c: &mut Client) -> Vec<DataOut> {
    std::iter::from_fn(|| c.poll_data()).collect()
}

fn chunks(out: &[DataOut]) -> Vec<(u64, u32)> {
    out.iter()
        .filter_map(|d| match d {
            DataOut::Chunk { offset, len, .. } => Some((*offset, *len)),
            _ => None,
        })
        .collect()
}

fn stream(id: &str, member: &str) -> StreamInfo {
    StreamInfo {
        id: id.into(),
        mem_id: member.into(),
        rtc_id: "RTC1".into(),
        stream_type: StreamType::Camera,
        audio: true,
        video: true,
        aoff: false,
        voff: false,
        ext: None,
    }
}

/// Sends `req` from a client in C1 and answers it with `resp`; returns the outcome.
fn answered(c: &mut Client, req: Request, resp: Response) -> Result<Outcome, SdkError> {
    c.handle_command(5, Command::Send(req), 10);
    let rid = sent(c).pop().expect("the request goes out").rid;
    c.handle_message(ok(rid, resp), 11);
    done(c).pop().expect("the call settles").result
}

#[test]
fn a_sender_keeps_one_window_in_flight_and_reports_acked_progress() {
    let mut c = in_conference(Role::Talker, vec![]);
    let req = Request::SendData {
        to: "bob".into(),
        size: 250,
        name: None,
    };
    let started = Response::TransferStarted {
        transfer_id: 7,
        chunk_bytes: 40,
        window_bytes: 100,
    };
    let out = answered(&mut c, req, started).unwrap();
    assert!(matches!(
        out,
        Outcome::TransferStarted { transfer_id: 7, .. }
    ));
    assert!(
        data(&mut c).is_empty(),
        "nothing moves before the driver holds the bytes"
    );

    c.begin_send(7, 250, 40, 100);
    // 40 + 40 + 20: the third chunk stops at the window's edge.
    assert_eq!(chunks(&data(&mut c)), vec![(0, 40), (40, 40), (80, 20)]);
    c.handle_ack(7, 40);
    assert_eq!(chunks(&data(&mut c)), vec![(100, 40)]);
    // Stale and impossible acks change nothing.
    c.handle_ack(7, 40);
    c.handle_ack(7, 10_000);
    assert!(data(&mut c).is_empty());
    c.handle_ack(7, 140);
    assert_eq!(chunks(&data(&mut c)), vec![(140, 40), (180, 40), (220, 20)]);
    c.handle_ack(7, 240);
    assert_eq!(chunks(&data(&mut c)), vec![(240, 10)]);
    c.handle_ack(7, 250);
    assert_eq!(data(&mut c), vec![DataOut::Forget(7)]);
    let progress: Vec<u64> = events(&mut c)
        .into_iter()
        .map(|e| match e {
            SdkEvent::SendProgress { sent, total, .. } => {
                assert_eq!(total, 250);
                sent
            }
            other => panic!("unexpected {other:?}"),
        })
        .collect();
    assert_eq!(progress, vec![40, 140, 240, 250]);
}

#[test]
fn a_receiver_acks_every_chunk_and_hands_over_the_whole_at_the_end() {
    let mut c = in_conference(Role::Talker, vec![]);
    let incoming = Event::DataIncoming {
        transfer_id: 3,
        from: "bob".into(),
        size: 100,
        name: Some("a.txt".into()),
    };
    c.handle_message(event(incoming), 5);
    assert!(
        events(&mut c).is_empty(),
        "nothing to tell until it is all here"
    );
    assert!(c.handle_chunk(3, 0, 60));
    // Out of order, beyond the size, or for an unknown transfer: not kept.
    assert!(!c.handle_chunk(3, 0, 10));
    assert!(!c.handle_chunk(3, 60, 41));
    assert!(!c.handle_chunk(9, 0, 1));
    assert!(c.handle_chunk(3, 60, 40));
    assert_eq!(
        data(&mut c),
        vec![
            DataOut::Ack {
                transfer: 3,
                received: 60
            },
            DataOut::Ack {
                transfer: 3,
                received: 100
            },
        ]
    );
    assert_eq!(
        events(&mut c),
        vec![SdkEvent::DataReceived {
            transfer: 3,
            from: "bob".into(),
            name: Some("a.txt".into()),
            size: 100,
        }]
    );
    assert!(
        !c.handle_chunk(3, 100, 1),
        "a finished transfer takes no more"
    );
}

#[test]
fn cancels_stop_a_transfer_at_this_end_and_a_dropped_link_cancels_all() {
    let mut c = in_conference(Role::Talker, vec![]);
    c.begin_send(1, 1000, 100, 300);
    data(&mut c);
    c.handle_message(
        event(Event::DataIncoming {
            transfer_id: 2,
            from: "bob".into(),
            size: 10,
            name: None,
        }),
        5,
    );
    // The app cancels its own send: the request goes out, the bytes are let go, and
    // late acks send nothing more.
    c.handle_command(
        6,
        Command::Send(Request::CancelTransfer { transfer_id: 1 }),
        6,
    );
    assert!(matches!(
        sent(&mut c)[0].req,
        Request::CancelTransfer { transfer_id: 1 }
    ));
    assert_eq!(data(&mut c), vec![DataOut::Forget(1)]);
    c.handle_ack(1, 100);
    assert!(data(&mut c).is_empty());
    // The other end cancels its transfer to us: onNotifyCancelSend.
    c.handle_message(event(Event::TransferCancelled { transfer_id: 2 }), 7);
    assert_eq!(
        events(&mut c),
        vec![SdkEvent::TransferCancelled { transfer: 2 }]
    );
    assert!(!c.handle_chunk(2, 0, 10));

    // A link that drops takes every transfer with it, at both ends.
    c.begin_send(4, 1000, 100, 300);
    c.handle_message(
        event(Event::DataIncoming {
            transfer_id: 5,
            from: "bob".into(),
            size: 10,
            name: None,
        }),
        8,
    );
    data(&mut c);
    c.handle_closed(9);
    let cancelled: Vec<SdkEvent> = events(&mut c)
        .into_iter()
        .filter(|e| matches!(e, SdkEvent::TransferCancelled { .. }))
        .collect();
    assert_eq!(
        cancelled,
        vec![
            SdkEvent::TransferCancelled { transfer: 4 },
            SdkEvent::TransferCancelled { transfer: 5 }
        ]
    );
    assert_eq!(data(&mut c), vec![DataOut::Forget(4), DataOut::Forget(5)]);
}

#[test]
fn empty_data_and_missing_users_are_refused_locally() {
    let mut c = in_conference(Role::Talker, vec![]);
    for req in [
        Request::SendData {
            to: "bob".into(),
            size: 0,
            name: None,
        },
        Request::SendCmd {
            to: "".into(),
            data: "x".into(),
        },
    ] {
        c.handle_command(1, Command::Send(req), 1);
        let e = done(&mut c).pop().unwrap().result.unwrap_err();
        assert_eq!(e.code, ErrorCode::BadParameters);
    }
    assert!(sent(&mut c).is_empty());
}

#[test]
fn being_muted_silences_own_streams_and_refuses_turning_audio_on() {
    let mut c = in_conference(Role::Talker, vec![]);
    let publish = Request::Publish {
        confr_id: "C1".into(),
        rtc_id: "RTC1".into(),
        stream_type: StreamType::Camera,
        audio: true,
        video: true,
        ext: None,
        sdp: "offer".into(),
    };
    let published = Response::Published {
        stream: stream("S1", "Mme"),
        sdp: "answer".into(),
    };
    answered(&mut c, publish, published).unwrap();
    let muted = |m| {
        event(Event::Muted {
            confr_id: "C1".into(),
            muted: m,
        })
    };
    c.handle_message(muted(true), 5);
    assert_eq!(
        c.poll_local_media(),
        Some(LocalMedia::SilenceSource {
            stream_id: "S1".into(),
            silent: true
        })
    );
    assert!(c.muted_in(&"C1".into()));
    assert!(c.conference(&"C1".into()).unwrap().streams[0].aoff);
    assert_eq!(
        events(&mut c),
        vec![SdkEvent::Interaction(Event::Muted {
            confr_id: "C1".into(),
            muted: true
        })]
    );
    // resumeAudio is refused here; pausing video (audio still off) is not.
    let set_media = |aoff| {
        Command::Send(Request::SetMedia {
            confr_id: "C1".into(),
            stream_id: "S1".into(),
            aoff,
            voff: true,
        })
    };
    c.handle_command(6, set_media(false), 6);
    let e = done(&mut c).pop().unwrap().result.unwrap_err();
    assert_eq!(e.code, ErrorCode::IllegalRights);
    assert!(sent(&mut c).is_empty());
    c.handle_command(7, set_media(true), 7);
    assert_eq!(sent(&mut c).len(), 1);

    c.handle_message(muted(false), 8);
    assert_eq!(
        c.poll_local_media(),
        Some(LocalMedia::SilenceSource {
            stream_id: "S1".into(),
            silent: false
        })
    );
    assert!(!c.muted_in(&"C1".into()));
}

#[test]
fn a_joiner_hears_the_attributes_and_a_mute_that_holds() {
    let (mut c, rid) = connected_with(join_c1());
    let Response::Joined(mut j) = joined("C1", Role::Talker, vec![]) else {
        unreachable!()
    };
    let attrs: Attrs = [("topic".to_owned(), "rust".to_owned())].into();
    j.attrs = attrs.clone();
    j.muted = true;
    c.handle_message(ok(rid, Response::Joined(j)), 3);
    assert_eq!(
        events(&mut c),
        vec![
            SdkEvent::Interaction(Event::ConfrAttrsUpdated {
                confr_id: "C1".into(),
                attrs
            }),
            SdkEvent::Interaction(Event::Muted {
                confr_id: "C1".into(),
                muted: true
            }),
        ]
    );
    assert!(c.muted_in(&"C1".into()));
}

#[test]
fn a_pk_answer_reaches_the_asker_and_guests_own_their_streams_until_it_ends() {
    let mut c = in_conference(Role::Admin, vec![]);
    let ask = Request::RequestRoomPk {
        confr_id: "C1".into(),
        target_confr_id: "C2".into(),
        target_user: "bob".into(),
    };
    assert_eq!(
        answered(&mut c, ask.clone(), Response::Done),
        Ok(Outcome::Done)
    );
    c.handle_message(
        event(Event::RoomPkRefused {
            confr_id: "C1".into(),
            target_confr_id: "C2".into(),
        }),
        5,
    );
    assert_eq!(
        events(&mut c),
        vec![SdkEvent::RoomPkAnswered {
            confr_id: "C1".into(),
            target_confr_id: "C2".into(),
            agree: false
        }]
    );

    answered(&mut c, ask, Response::Done).unwrap();
    let started = Event::RoomPkStarted {
        confr_id: "C1".into(),
        other_confr_id: "C2".into(),
    };
    c.handle_message(event(started.clone()), 6);
    let host = member("M9", "bob", Role::Admin);
    c.handle_message(
        event(Event::StreamAdded {
            confr_id: "C1".into(),
            stream: stream("S9", "M9"),
            member: Some(host.clone()),
        }),
        7,
    );
    let evs = events(&mut c);
    assert_eq!(evs[0], SdkEvent::Interaction(started));
    assert_eq!(
        evs[1],
        SdkEvent::RoomPkAnswered {
            confr_id: "C1".into(),
            target_confr_id: "C2".into(),
            agree: true
        }
    );
    assert!(
        matches!(&evs[2], SdkEvent::StreamAdded { owner: Some(m), .. } if *m == host),
        "the foreign stream comes with its host: {:?}",
        evs[2]
    );
    c.handle_message(
        event(Event::StreamRemoved {
            confr_id: "C1".into(),
            stream: stream("S9", "M9"),
        }),
        8,
    );
    c.handle_message(
        event(Event::RoomPkEnded {
            confr_id: "C1".into(),
            other_confr_id: "C2".into(),
        }),
        9,
    );
    let evs = events(&mut c);
    assert!(matches!(&evs[0], SdkEvent::StreamRemoved { owner: Some(m), .. } if *m == host));
    assert!(matches!(
        evs[1],
        SdkEvent::Interaction(Event::RoomPkEnded { .. })
    ));
    assert!(c.conference(&"C1".into()).unwrap().guests.is_empty());
}

#[test]
fn messages_and_lists_resolve_and_arrive_as_sent() {
    let mut c = in_conference(Role::Admin, vec![]);
    let msg = Request::SendRoomMsg {
        confr_id: "C1".into(),
        msg: RoomMsg::Text("hi".into()),
    };
    assert_eq!(answered(&mut c, msg, Response::Done), Ok(Outcome::Done));
    let bob = member("M2", "bob", Role::Audience);
    let list = Request::GetAudienceList {
        confr_id: "C1".into(),
    };
    assert_eq!(
        answered(&mut c, list, Response::Members(vec![bob.clone()])),
        Ok(Outcome::Members {
            confr_id: "C1".into(),
            members: vec![bob.clone()]
        })
    );
    let too_big = Request::SendCmd {
        to: "bob".into(),
        data: "x".repeat(5000),
    };
    c.handle_command(5, Command::Send(too_big), 10);
    let rid = sent(&mut c).pop().unwrap().rid;
    c.handle_message(fail(rid, ErrorCode::TooLarge), 11);
    assert_eq!(
        done(&mut c).pop().unwrap().result.unwrap_err().code,
        ErrorCode::TooLarge
    );
    for e in [
        Event::RoomMsg {
            confr_id: "C1".into(),
            from: bob.clone(),
            msg: RoomMsg::Custom {
                cmd: "gift".into(),
                msg: "rose".into(),
            },
        },
        Event::CmdData {
            from: "bob".into(),
            data: "ping".into(),
        },
        Event::TalkerRequested {
            confr_id: "C1".into(),
            applicant: bob,
            reason: Some("please".into()),
        },
    ] {
        c.handle_message(event(e.clone()), 12);
        assert_eq!(events(&mut c), vec![SdkEvent::Interaction(e)]);
    }
    // News of a room this page is not in is dropped.
    c.handle_message(
        event(Event::ConfrAttrsUpdated {
            confr_id: "C7".into(),
            attrs: Attrs::new(),
        }),
        13,
    );
    assert!(events(&mut c).is_empty());
}

#[test]
fn admin_only_requests_are_refused_locally_for_others() {
    let mut c = in_conference(Role::Audience, vec![]);
    for req in [
        Request::MuteAll {
            confr_id: "C1".into(),
            muted: true,
        },
        Request::SetConferenceAttrs {
            confr_id: "C1".into(),
            key: "k".into(),
            val: "v".into(),
        },
        Request::GetAudienceList {
            confr_id: "C1".into(),
        },
    ] {
        c.handle_command(1, Command::Send(req), 1);
        let e = done(&mut c).pop().unwrap().result.unwrap_err();
        assert_eq!(e.code, ErrorCode::IllegalRights);
    }
    assert!(sent(&mut c).is_empty());
}

//! The exported JS API, end to end, in headless Chromium (wasm-pack test) against a
//! real emedia-server in dev mode. `scripts/test.sh` starts the server and passes its
//! address in EMEDIA_TEST_SERVER at build time.
#![cfg(target_arch = "wasm32")]

use emedia::Manager;
use gloo_timers::future::TimeoutFuture;
use js_sys::{Array, Function, Object, Reflect};
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

const SERVER: &str = match option_env!("EMEDIA_TEST_SERVER") {
    Some(s) => s,
    None => "http://127.0.0.1:8080",
};

fn get(v: &JsValue, k: &str) -> JsValue {
    Reflect::get(v, &k.into()).unwrap()
}

fn unique(prefix: &str) -> String {
    format!("{prefix}{}", (js_sys::Math::random() * 1e9) as u64)
}

async fn token(user: &str) -> String {
    let window = web_sys::window().unwrap();
    let url = format!("{SERVER}/dev/token?user={user}");
    let resp: web_sys::Response = JsFuture::from(window.fetch_with_str(&url))
        .await
        .unwrap()
        .dyn_into()
        .unwrap();
    let body = JsFuture::from(resp.json().unwrap()).await.unwrap();
    get(&body, "token").as_string().unwrap()
}

/// A member: a Manager of its own and a log of every hook call, as text.
struct Member {
    mgr: Manager,
    name: String,
    log: Rc<RefCell<Vec<String>>>,
}

fn describe_member(m: &JsValue) -> String {
    get(m, "name").as_string().unwrap_or_default()
}

impl Member {
    async fn new(prefix: &str) -> Self {
        let name = unique(prefix);
        let mgr = Manager::new();
        mgr.configure(
            Object::from_entries(&Array::of1(&Array::of2(&"server".into(), &SERVER.into())))
                .unwrap()
                .into(),
        )
        .unwrap();
        mgr.set_identity(name.clone().into(), token(&name).await.into())
            .unwrap();
        let log = Rc::new(RefCell::new(Vec::new()));
        let l = log.clone();
        mgr.set_on_member_joined(
            Closure::<dyn FnMut(JsValue)>::new(move |m: JsValue| {
                l.borrow_mut()
                    .push(format!("joined {}", describe_member(&m)))
            })
            .into_js_value(),
        );
        let l = log.clone();
        mgr.set_on_member_exited(
            Closure::<dyn FnMut(JsValue, JsValue)>::new(move |m: JsValue, r: JsValue| {
                l.borrow_mut().push(format!(
                    "exited {} {}",
                    describe_member(&m),
                    r.as_f64().unwrap()
                ))
            })
            .into_js_value(),
        );
        let l = log.clone();
        mgr.set_on_member_role_changed(
            Closure::<dyn FnMut(JsValue)>::new(move |m: JsValue| {
                l.borrow_mut().push(format!(
                    "role {} {}",
                    describe_member(&m),
                    get(&m, "role").as_f64().unwrap()
                ))
            })
            .into_js_value(),
        );
        let l = log.clone();
        mgr.set_on_role_changed(
            Closure::<dyn FnMut(JsValue)>::new(move |r: JsValue| {
                l.borrow_mut()
                    .push(format!("my role {}", r.as_f64().unwrap()))
            })
            .into_js_value(),
        );
        let l = log.clone();
        mgr.set_on_conference_exit(
            Closure::<dyn FnMut(JsValue, JsValue)>::new(move |r: JsValue, f: JsValue| {
                l.borrow_mut()
                    .push(format!("exit {} {:?}", r.as_f64().unwrap(), f.as_f64()))
            })
            .into_js_value(),
        );
        for (name, set) in [
            (
                "reconnecting",
                Manager::set_on_reconnecting as fn(&Manager, JsValue),
            ),
            ("reconnected", Manager::set_on_reconnected),
        ] {
            let l = log.clone();
            set(
                &mgr,
                Closure::<dyn FnMut()>::new(move || l.borrow_mut().push(name.to_owned()))
                    .into_js_value(),
            );
        }
        Self { mgr, name, log }
    }

    /// Waits until the log holds exactly `want` (with real names), then clears it.
    async fn expect(&self, want: &[String]) {
        for _ in 0..250 {
            if self.log.borrow().len() >= want.len() {
                break;
            }
            TimeoutFuture::new(20).await;
        }
        // A little longer, so that an extra (duplicate) event would be caught.
        TimeoutFuture::new(50).await;
        let got: Vec<String> = self.log.borrow_mut().drain(..).collect();
        assert_eq!(got, want, "hook calls of {}", self.name);
    }
}

async fn ok(p: js_sys::Promise) -> JsValue {
    match JsFuture::from(p).await {
        Ok(v) => v,
        Err(e) => panic!("rejected: {:?} {:?}", get(&e, "code"), get(&e, "message")),
    }
}

/// Awaits a rejection and returns its code, checking it is an Error with words.
async fn code(p: js_sys::Promise) -> i32 {
    let e = JsFuture::from(p).await.expect_err("expected a rejection");
    assert!(e.is_instance_of::<js_sys::Error>(), "rejections are Errors");
    assert!(!get(&e, "message").as_string().unwrap().is_empty());
    get(&e, "code").as_f64().unwrap() as i32
}

fn s(v: &str) -> JsValue {
    v.into()
}

fn names(list: &[&str]) -> JsValue {
    list.iter()
        .map(|n| JsValue::from_str(n))
        .collect::<Array>()
        .into()
}

#[wasm_bindgen_test]
async fn three_members_create_join_grant_kick_exit_destroy() {
    let a = Member::new("alice").await;
    let b = Member::new("bob").await;
    let c = Member::new("carol").await;
    let u = JsValue::UNDEFINED;

    assert_eq!(
        get(&a.mgr.confr_type_constants().into(), "LIVE").as_f64(),
        Some(12.0)
    );
    assert_eq!(
        get(&a.mgr.role_constants().into(), "ADMIN").as_f64(),
        Some(7.0)
    );

    // Create (positional form) and join with the creator's ticket.
    let confr = ok(a
        .mgr
        .create_conference(10.into(), s("pw"), u.clone(), u.clone()))
    .await;
    let confr_id = get(&confr, "confrId");
    assert_eq!(get(&confr, "id"), confr_id);
    assert_eq!(get(&confr, "type").as_f64(), Some(10.0));
    assert_eq!(get(&confr, "password").as_string().as_deref(), Some("pw"));
    let ext_a: JsValue = js_sys::JSON::parse(r#"{"seat":"a"}"#).unwrap();
    let ja = ok(a
        .mgr
        .join_conference_with_ticket(confr_id.clone(), get(&confr, "ticket"), ext_a))
    .await;
    assert_eq!(get(&ja, "role").as_f64(), Some(7.0));
    assert!(get(&ja, "roleToken").as_string().is_some());

    // Join by id + password.
    let ext_b: JsValue = js_sys::JSON::parse(r#"{"seat":"b"}"#).unwrap();
    let jb = ok(b.mgr.join_conference(confr_id.clone(), s("pw"), ext_b)).await;
    assert_eq!(get(&jb, "role").as_f64(), Some(3.0));
    let roster = Array::from(&get(&jb, "members"));
    assert_eq!(roster.length(), 1);
    assert_eq!(
        get(&get(&roster.get(0), "ext"), "seat")
            .as_string()
            .as_deref(),
        Some("a"),
        "ext arrives as the joiner's object"
    );

    // Join with a ticket.
    let ticket = ok(c.mgr.get_conference_tkt(confr_id.clone(), s("pw"))).await;
    ok(c.mgr
        .join_conference_with_ticket(confr_id.clone(), ticket, u.clone()))
    .await;

    a.expect(&[format!("joined {}", b.name), format!("joined {}", c.name)])
        .await;
    b.expect(&[format!("joined {}", a.name), format!("joined {}", c.name)])
        .await;
    c.expect(&[format!("joined {}", a.name), format!("joined {}", b.name)])
        .await;

    // Errors with their codes.
    let d = Member::new("dave").await;
    assert_eq!(
        code(
            d.mgr
                .join_conference(confr_id.clone(), s("wrong"), u.clone())
        )
        .await,
        -508
    );
    assert_eq!(
        code(d.mgr.join_conference(s("Cnope"), s("pw"), u.clone())).await,
        -301
    );
    assert_eq!(
        code(
            d.mgr
                .join_conference_with_ticket(confr_id.clone(), s("forged"), u.clone())
        )
        .await,
        -500
    );
    assert_eq!(
        code(
            b.mgr
                .kick_members_by_id(confr_id.clone(), names(&[&c.name]))
        )
        .await,
        -101
    );
    assert_eq!(code(b.mgr.destroy_conference(confr_id.clone())).await, -101);
    assert_eq!(
        code(
            a.mgr
                .grant_role(confr_id.clone(), names(&[&c.name]), 5.into())
        )
        .await,
        -200
    );
    assert_eq!(
        code(a.mgr.kick_members_by_id(u.clone(), names(&[&c.name]))).await,
        -200
    );
    assert_eq!(
        code(
            a.mgr
                .create_conference(99.into(), u.clone(), u.clone(), u.clone())
        )
        .await,
        -200
    );

    // Grant: carol becomes AUDIENCE; bob stops seeing her.
    ok(a.mgr
        .grant_role(confr_id.clone(), names(&[&c.name]), 1.into()))
    .await;
    c.expect(&["my role 1".into()]).await;
    a.expect(&[format!("role {} 1", c.name)]).await;
    b.expect(&[format!("exited {} 13", c.name)]).await;

    // Kick bob.
    ok(a.mgr
        .kick_members_by_id(confr_id.clone(), names(&[&b.name])))
    .await;
    b.expect(&["exit 12 None".into()]).await;
    a.expect(&[format!("exited {} 12", b.name)]).await;
    c.expect(&[format!("exited {} 12", b.name)]).await;

    // Carol leaves: only the admin hears of the audience member's exit.
    ok(c.mgr.exit_conference(confr_id.clone())).await;
    c.expect(&["exit 0 None".into()]).await;
    a.expect(&[format!("exited {} 0", c.name)]).await;

    // Info, then destroy.
    let info = ok(a.mgr.get_conference_info(confr_id.clone(), u.clone())).await;
    assert_eq!(Array::from(&get(&info, "members")).length(), 1);
    ok(a.mgr.destroy_conference(confr_id.clone())).await;
    a.expect(&["exit 11 None".into()]).await;
    assert_eq!(
        code(d.mgr.get_conference_info(confr_id.clone(), s("pw"))).await,
        -301
    );
}

#[wasm_bindgen_test]
async fn join_room_creates_by_name_and_destroy_reaches_everyone() {
    let a = Member::new("ann").await;
    let b = Member::new("ben").await;
    let c = Member::new("cat").await;
    let room = unique("room");
    let opts = |role: u8, nick: &str| -> JsValue {
        let config = Object::new();
        Reflect::set(&config, &"nickName".into(), &nick.into()).unwrap();
        Reflect::set(&config, &"maxTalkerCount".into(), &3.into()).unwrap();
        let o = Object::new();
        Reflect::set(&o, &"roomName".into(), &room.clone().into()).unwrap();
        Reflect::set(&o, &"role".into(), &role.into()).unwrap();
        Reflect::set(&o, &"config".into(), &config).unwrap();
        o.into()
    };
    let ra = ok(a.mgr.join_room(opts(7, "Ann"))).await;
    assert_eq!(get(&ra, "role").as_f64(), Some(7.0));
    assert_eq!(get(&ra, "created").as_bool(), Some(true));
    let rb = ok(b.mgr.join_room(opts(7, "Ben"))).await;
    assert_eq!(get(&rb, "confrId"), get(&ra, "confrId"));
    assert_eq!(
        get(&rb, "role").as_f64(),
        Some(3.0),
        "later joiners get at most TALKER"
    );
    let rc = ok(c.mgr.join_room(opts(1, "Cat"))).await;
    assert_eq!(get(&rc, "role").as_f64(), Some(1.0));
    for key in ["confrId", "joinId", "role", "roleToken", "ticket", "type"] {
        assert!(!get(&rc, key).is_undefined(), "joinRoom resolves {key}");
    }
    a.expect(&[format!("joined {}", b.name), format!("joined {}", c.name)])
        .await;
    b.expect(&[format!("joined {}", a.name)]).await;
    c.expect(&[format!("joined {}", a.name), format!("joined {}", b.name)])
        .await;

    ok(a.mgr.destroy_conference(get(&ra, "confrId"))).await;
    for m in [&a, &b, &c] {
        m.expect(&["exit 11 None".into()]).await;
    }
}

#[wasm_bindgen_test]
async fn a_closed_socket_reconnects_and_resumes_unnoticed() {
    let a = Member::new("ada").await;
    let b = Member::new("bo").await;
    // A socket factory: the mini-program's way in, and the test's handle on the socket.
    let factory = Function::new_with_args(
        "url",
        "const ws = new WebSocket(url); globalThis.__emediaTestSocket = ws; return ws;",
    );
    let opts = Object::new();
    Reflect::set(&opts, &"socketFactory".into(), &factory).unwrap();
    b.mgr.configure(opts.into()).unwrap();
    let room = unique("net");
    let opts = Object::new();
    Reflect::set(&opts, &"roomName".into(), &room.into()).unwrap();
    ok(a.mgr.join_room(opts.clone().into())).await;
    let joined = ok(b.mgr.join_room(opts.into())).await;
    a.expect(&[format!("joined {}", b.name)]).await;
    b.expect(&[format!("joined {}", a.name)]).await;

    let socket = Reflect::get(&js_sys::global(), &"__emediaTestSocket".into()).unwrap();
    let close: Function = get(&socket, "close").dyn_into().unwrap();
    close.call0(&socket).unwrap();
    b.expect(&["reconnecting".into(), "reconnected".into()])
        .await;
    a.expect(&[]).await;
    // Still the same member: a normal exit is what the others see.
    let confr = get(&joined, "confrId");
    let info = ok(a.mgr.get_conference_info(confr.clone(), JsValue::UNDEFINED)).await;
    let members: Array = get(&info, "members").dyn_into().unwrap();
    assert!(members
        .iter()
        .any(|m| get(&m, "id") == get(&joined, "joinId")));
    ok(b.mgr.exit_conference(confr)).await;
    a.expect(&[format!("exited {} 0", b.name)]).await;
}

#[wasm_bindgen_test]
async fn calls_before_set_identity_reject_and_a_throwing_hook_is_survived() {
    let m = Manager::new();
    let opts = Object::new();
    Reflect::set(&opts, &"server".into(), &SERVER.into()).unwrap();
    m.configure(opts.into()).unwrap();
    assert_eq!(code(m.exit_conference(s("C1"))).await, -100);
    assert!(m.set_identity(JsValue::UNDEFINED, s("t")).is_err());

    // A hook that throws is logged and the SDK carries on.
    let a = Member::new("thrower").await;
    let b = Member::new("other").await;
    a.mgr
        .set_on_member_joined(Function::new_no_args("throw new Error('app bug')").into());
    let room = unique("throw");
    let opts = Object::new();
    Reflect::set(&opts, &"roomName".into(), &room.into()).unwrap();
    let r = ok(a.mgr.join_room(opts.clone().into())).await;
    ok(b.mgr.join_room(opts.into())).await;
    TimeoutFuture::new(100).await;
    let info = ok(a
        .mgr
        .get_conference_info(get(&r, "confrId"), JsValue::UNDEFINED))
    .await;
    assert_eq!(Array::from(&get(&info, "members")).length(), 2);
}

//! The browser's view of the network: `online` on the window and `visibilitychange`
//! on the document feed the core, which probes the link or retries at once. Going
//! offline or hidden alone changes nothing: a dead link shows itself by its silence.
//! Also `devicechange` on `navigator.mediaDevices`, which calls `onDeviceChanged()`.
//!
//! Duck-typed through `Reflect` (no web-sys types), and absent where there is no
//! `addEventListener` (mini-programs). The listeners are removed in `Drop`.

use super::driver::{now, pump, Driver};
use js_sys::{Function, Reflect};
use std::cell::RefCell;
use std::rc::Weak;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

/// One `addEventListener` made: on what, for which event, with what.
struct Listener {
    target: JsValue,
    event: &'static str,
    closure: Closure<dyn FnMut()>,
}

pub struct NetworkWatch {
    listeners: Vec<Listener>,
}

fn method(target: &JsValue, name: &str) -> Option<Function> {
    Reflect::get(target, &name.into()).ok()?.dyn_into().ok()
}

impl NetworkWatch {
    pub fn install(driver: Weak<RefCell<Driver>>) -> Self {
        let global: JsValue = js_sys::global().into();
        let document = Reflect::get(&global, &"document".into()).unwrap_or(JsValue::UNDEFINED);
        let mut listeners = Vec::new();
        let on_online = {
            let driver = driver.clone();
            move || {
                let Some(d) = driver.upgrade() else { return };
                d.borrow_mut().core.handle_online(now());
                pump(&d);
            }
        };
        let on_devices = {
            let driver = driver.clone();
            move || {
                let Some(d) = driver.upgrade() else { return };
                let hooks = d.borrow().hooks.clone();
                hooks.call(super::hooks::Hook::DeviceChanged, &js_sys::Array::new());
            }
        };
        let navigator = Reflect::get(&global, &"navigator".into()).unwrap_or(JsValue::UNDEFINED);
        let devices =
            Reflect::get(&navigator, &"mediaDevices".into()).unwrap_or(JsValue::UNDEFINED);
        let on_visibility = {
            let document = document.clone();
            move || {
                let visible = Reflect::get(&document, &"visibilityState".into())
                    .ok()
                    .and_then(|v| v.as_string())
                    .is_some_and(|v| v == "visible");
                let Some(d) = driver.upgrade().filter(|_| visible) else {
                    return;
                };
                d.borrow_mut().core.handle_visible(now());
                pump(&d);
            }
        };
        let wanted = [
            Listener {
                target: global,
                event: "online",
                closure: Closure::wrap(Box::new(on_online) as Box<dyn FnMut()>),
            },
            Listener {
                target: document,
                event: "visibilitychange",
                closure: Closure::wrap(Box::new(on_visibility) as Box<dyn FnMut()>),
            },
            Listener {
                target: devices,
                event: "devicechange",
                closure: Closure::wrap(Box::new(on_devices) as Box<dyn FnMut()>),
            },
        ];
        for l in wanted {
            let Some(add) = method(&l.target, "addEventListener") else {
                continue;
            };
            if add
                .call2(
                    &l.target,
                    &l.event.into(),
                    l.closure.as_ref().unchecked_ref(),
                )
                .is_ok()
            {
                listeners.push(l);
            }
        }
        Self { listeners }
    }
}

impl Drop for NetworkWatch {
    fn drop(&mut self) {
        for l in &self.listeners {
            if let Some(remove) = method(&l.target, "removeEventListener") {
                let _ = remove.call2(
                    &l.target,
                    &l.event.into(),
                    l.closure.as_ref().unchecked_ref(),
                );
            }
        }
    }
}

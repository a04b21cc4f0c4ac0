'use strict';
// CommonJS entry of the emedia SDK: `const emedia = require('emedia-sdk')`, for
// WeChat mini-programs and require-style bundlers.
//
// In a mini-program the wasm is loaded with WXWebAssembly from a path inside the
// mini-program package (`wasmPath`, default where the developer tools' npm build
// puts this package), signaling runs on wx.connectSocket, and pubStream/subStream
// hand out RTMP URLs for <live-pusher>/<live-player>. Elsewhere the wasm comes from
// `wasm` (bytes or a WebAssembly.Module) or is fetched from `wasmPath`.
//
// Loading starts one microtask after require(), so `emedia.config({...})` called
// right after require() applies to it; then `await emedia.ready`.
const glue = require('./emedia_wasm.js');
const { wxSocketFactory } = require('./wx-socket.js');

const DEFAULT_WASM_PATH = '/miniprogram_npm/emedia-sdk/emedia_wasm_bg.wasm';

const wxApi = typeof wx === 'object' && wx !== null ? wx : undefined;
const WXWasm = typeof WXWebAssembly === 'object' ? WXWebAssembly : undefined;
const inMiniProgram = Boolean(wxApi && WXWasm);

const options = {};
const loaderOptions = {};

function instantiate(imports) {
  if (inMiniProgram) {
    return WXWasm.instantiate(loaderOptions.wasmPath || DEFAULT_WASM_PATH, imports);
  }
  if (typeof WebAssembly !== 'object') {
    return Promise.reject(new Error('emedia: no WebAssembly in this runtime'));
  }
  if (loaderOptions.wasm) {
    return WebAssembly.instantiate(loaderOptions.wasm, imports);
  }
  if (!loaderOptions.wasmPath) {
    return Promise.reject(
      new Error('emedia: call emedia.config({wasmPath}) or ({wasm}) right after require()'),
    );
  }
  return fetch(loaderOptions.wasmPath)
    .then((r) => r.arrayBuffer())
    .then((bytes) => WebAssembly.instantiate(bytes, imports));
}

/** `mgr.mediaDevices()`: the cameras and microphones (as ../index.js); -507 in a
 * mini-program, whose <live-pusher> picks its own camera. */
async function mediaDevices() {
  const devices = typeof navigator === 'object' && navigator ? navigator.mediaDevices : undefined;
  if (inMiniProgram || !devices) {
    const e = new Error('not in a mini-program: use the live-pusher and live-player components');
    e.code = -507;
    throw e;
  }
  return (await devices.enumerateDevices())
    .filter((d) => d.kind === 'videoinput' || d.kind === 'audioinput')
    .map(({ deviceId, kind, label, groupId }) => ({ deviceId, kind, label, groupId }));
}

const emedia = {
  /** The emedia manager; set once `ready` resolves. */
  mgr: undefined,
  /** Resolves with `emedia` when the SDK can be used. */
  ready: undefined,
  /** True in a WeChat mini-program: media goes through <live-pusher>/<live-player>. */
  miniProgram: inMiniProgram,
  /** `{server, socketFactory, wasmPath, wasm}`. */
  config(opts) {
    const { wasmPath, wasm, ...rest } = opts || {};
    if (wasmPath !== undefined) loaderOptions.wasmPath = wasmPath;
    if (wasm !== undefined) loaderOptions.wasm = wasm;
    Object.assign(options, rest);
    if (emedia.mgr) emedia.mgr.configure(rest);
  },
};

emedia.ready = Promise.resolve()
  .then(() => instantiate(glue.__wbg_get_imports()))
  .then((result) => {
    // WebAssembly.instantiate(bytes) gives {instance, module}; (module) gives the instance.
    const instance = result.instance || result;
    glue.__wbg_finalize_init(instance, result.module);
    // The methods (`mgr.joinRoom(...)`, ...) call the SDK's `invoke` by number, and the
    // hooks (`mgr.onMemberJoined = fn`, ...) are accessors over its slots (as in ../index.js).
    const { Manager } = glue;
    const proto = Manager.prototype;
    Manager.methodNames().forEach((name, slot) => {
      Object.defineProperty(proto, name, {
        value(a, b, c, d) { return this.invoke(slot, a, b, c, d); },
        writable: true,
        configurable: true,
      });
    });
    Manager.hookNames().forEach((name, slot) => {
      Object.defineProperty(proto, name, {
        get() { return this.getHook(slot); },
        set(f) { this.setHook(slot, f); },
      });
    });
    Object.defineProperty(proto, 'mediaDevices', { value: mediaDevices, writable: true, configurable: true });
    const mgr = new Manager();
    if (inMiniProgram) mgr.configure({ socketFactory: wxSocketFactory(wxApi), miniProgram: true });
    mgr.configure(options);
    emedia.mgr = mgr;
    return emedia;
  });

emedia.default = emedia;
emedia.emedia = emedia;
emedia.Manager = glue.Manager;
module.exports = emedia;

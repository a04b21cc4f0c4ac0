// ESM entry of the emedia SDK: `import emedia from 'emedia-sdk'`.
// The wasm instantiates itself; `await emedia.ready` before using `emedia.mgr`.
import init, { Manager } from './emedia_wasm.js';

const options = {};

const emedia = {
  /** The emedia manager; set once `ready` resolves. */
  mgr: undefined,
  /** Resolves with `emedia` when the SDK can be used. */
  ready: undefined,
  /** `{server}`: the emedia-server base URL (http(s) or ws(s)); defaults to the page's origin. */
  config(opts) {
    Object.assign(options, opts);
    if (emedia.mgr) emedia.mgr.configure(opts);
  },
};

// The methods (`mgr.joinRoom(...)`, ...) call the SDK's `invoke` by number, and the
// hooks (`mgr.onMemberJoined = fn`, ...) are accessors over its slots: two exports
// instead of one per method and two per hook (see BENCHMARKS.md, size budget).
function defineApi() {
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
  // Stateless, so here rather than in the wasm: 0.1 KB gzipped against 0.66 KB.
  Object.defineProperty(proto, 'mediaDevices', { value: mediaDevices, writable: true, configurable: true });
}

/** `mgr.mediaDevices()`: the cameras and microphones. */
async function mediaDevices() {
  if (!globalThis.navigator?.mediaDevices) {
    throw Object.assign(new Error('no camera or microphone access here (navigator.mediaDevices)'), { code: -507 });
  }
  return (await navigator.mediaDevices.enumerateDevices())
    .filter((d) => d.kind === 'videoinput' || d.kind === 'audioinput')
    .map(({ deviceId, kind, label, groupId }) => ({ deviceId, kind, label, groupId }));
}

emedia.ready = init().then(() => {
  defineApi();
  emedia.mgr = new Manager();
  emedia.mgr.configure(options);
  return emedia;
});

export default emedia;
export { emedia, Manager };

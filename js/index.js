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

// The hooks (`mgr.onMemberJoined = fn`, ...) are accessors over the SDK's slots.
function defineHooks() {
  Manager.hookNames().forEach((name, slot) => {
    Object.defineProperty(Manager.prototype, name, {
      get() { return this.getHook(slot); },
      set(f) { this.setHook(slot, f); },
    });
  });
}

emedia.ready = init().then(() => {
  defineHooks();
  emedia.mgr = new Manager();
  emedia.mgr.configure(options);
  return emedia;
});

export default emedia;
export { emedia, Manager };

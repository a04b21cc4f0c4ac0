// A simulated WeChat mini-program runtime for tests: a Node vm context whose
// globals are the JavaScript built-ins plus `wx` and `WXWebAssembly`, and nothing
// of the web or Node (no window, document, fetch, WebSocket, WebAssembly,
// TextDecoder, queueMicrotask, process). Modules load through a CommonJS `require`
// of its own, as in a mini-program; the package is resolved by its
// `exports["."].require` entry. `wx.connectSocket` sits on a real WebSocket client
// (ws) and `WXWebAssembly.instantiate(path)` reads the wasm from the package.
import vm from 'node:vm';
import { readFileSync, existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import WebSocket from 'ws';

const HOST = { WebAssembly };

export class MiniProgram {
  /**
   * @param pkgDir the installed emedia-sdk package (node_modules/emedia-sdk)
   * @param envVersion what wx.getAccountInfoSync() reports: develop, trial or release
   */
  constructor(pkgDir, { envVersion = 'develop' } = {}) {
    this.pkgDir = pkgDir;
    this.sockets = [];
    this.wasmPaths = [];
    this.timers = new Map();
    this.modules = new Map();
    let nextTimer = 0;
    const sandbox = {
      console,
      // Numeric timer ids, as a mini-program has; tracked so dispose() can clear them.
      setTimeout: (fn, ms, ...args) => {
        const id = ++nextTimer;
        // An unloaded program runs nothing more (the SDK would otherwise reconnect).
        if (this.disposed) return id;
        this.timers.set(id, setTimeout(() => {
          this.timers.delete(id);
          fn(...args);
        }, ms));
        return id;
      },
      clearTimeout: (id) => {
        clearTimeout(this.timers.get(id));
        this.timers.delete(id);
      },
      wx: this.wxApi(envVersion),
      WXWebAssembly: {
        instantiate: (path, imports) => {
          this.wasmPaths.push(path);
          return HOST.WebAssembly.instantiate(readFileSync(this.packagePath(path)), imports);
        },
      },
    };
    this.context = vm.createContext(sandbox);
    // WebAssembly is a JavaScript built-in in V8; a mini-program has only WXWebAssembly.
    vm.runInContext('delete globalThis.WebAssembly', this.context);
  }

  /** The globals a page sees, for the test to check what is missing. */
  globals() {
    return vm.runInContext('Object.getOwnPropertyNames(globalThis)', this.context);
  }

  /**
   * A path inside the mini-program package: the developer tools' npm build puts
   * the package's "miniprogram" folder at /miniprogram_npm/<name>/.
   */
  packagePath(path) {
    const prefix = '/miniprogram_npm/emedia-sdk/';
    if (!path.startsWith(prefix)) throw new Error(`no file ${path} in the mini-program package`);
    const meta = JSON.parse(readFileSync(join(this.pkgDir, 'package.json'), 'utf8'));
    return join(this.pkgDir, meta.miniprogram, path.slice(prefix.length));
  }

  wxApi(envVersion) {
    const sockets = this.sockets;
    const runtime = this;
    return {
      getAccountInfoSync: () => ({ miniProgram: { appId: 'wxtest', envVersion } }),
      connectSocket({ url, fail }) {
        const handlers = { open: [], message: [], error: [], close: [] };
        const emit = (kind, ev) => handlers[kind].forEach((f) => f(ev));
        let ws;
        try {
          if (runtime.disposed) throw new Error('the program was unloaded');
          ws = new WebSocket(url);
        } catch (e) {
          fail?.({ errMsg: `connectSocket:fail ${e.message}` });
          throw e;
        }
        sockets.push({ url, ws });
        ws.on('open', () => emit('open', { header: {} }));
        ws.on('message', (data, binary) => emit('message', { data: binary ? runtime.arrayBuffer(data) : data.toString() }));
        ws.on('error', (e) => emit('error', { errMsg: e.message }));
        ws.on('close', (code, reason) => emit('close', { code, reason: reason.toString() }));
        return {
          onOpen: (f) => handlers.open.push(f),
          onMessage: (f) => handlers.message.push(f),
          onError: (f) => handlers.error.push(f),
          onClose: (f) => handlers.close.push(f),
          send({ data, success, fail: failed }) {
            ws.send(data, (err) => (err ? failed?.({ errMsg: err.message }) : success?.({})));
          },
          close({ code = 1000, reason } = {}) {
            ws.close(code, reason);
          },
        };
      },
    };
  }

  /** A binary message's bytes as WeChat hands them over: an ArrayBuffer of the page's
   * own realm, exactly the message's length (a Node Buffer may be a view into a
   * bigger pool). */
  arrayBuffer(bytes) {
    const buffer = new (vm.runInContext('ArrayBuffer', this.context))(bytes.length);
    new Uint8Array(buffer).set(bytes);
    return buffer;
  }

  /** `require` as a page of this mini-program calls it. */
  require(spec) {
    if (spec === 'emedia-sdk') {
      const meta = JSON.parse(readFileSync(join(this.pkgDir, 'package.json'), 'utf8'));
      return this.load(join(this.pkgDir, meta.exports['.'].require));
    }
    throw new Error(`module ${spec} is not in the mini-program`);
  }

  load(file) {
    const cached = this.modules.get(file);
    if (cached) return cached.exports;
    const module = { exports: {} };
    this.modules.set(file, module);
    const wrapper = vm.runInContext(
      `(function (exports, require, module, __filename, __dirname) {${readFileSync(file, 'utf8')}\n})`,
      this.context,
      { filename: file },
    );
    const dir = dirname(file);
    const localRequire = (spec) => {
      if (!spec.startsWith('.')) throw new Error(`module ${spec} is not in the mini-program`);
      const path = resolve(dir, spec);
      return this.load(existsSync(path) ? path : `${path}.js`);
    };
    wrapper.call(module.exports, module.exports, localRequire, module, file, dir);
    return module.exports;
  }

  /** Closes every socket and clears every timer, so the test process can end. */
  dispose() {
    this.disposed = true;
    for (const { ws } of this.sockets) ws.terminate();
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
  }
}

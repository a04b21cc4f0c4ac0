'use strict';
// The signaling socket in a mini-program: a WebSocket-shaped object over
// `wx.connectSocket`, for the SDK's `socketFactory`.

// Plain ws:// is for the developer tools and phone previews of a development
// build; trial and release builds only reach wss:// servers (WeChat refuses
// plain ones there, and we'd rather fail with a message that says why).
function isDevelopment(wx) {
  try {
    return wx.getAccountInfoSync().miniProgram.envVersion === 'develop';
  } catch (_) {
    return false;
  }
}

function wxSocketFactory(wx) {
  return function connect(url) {
    if (!/^wss:\/\//.test(url) && !isDevelopment(wx)) {
      throw new Error(`emedia: mini-programs need a wss:// server outside development (got ${url})`);
    }
    const socket = { onopen: null, onmessage: null, onclose: null };
    let closed = false;
    const closeOnce = (ev) => {
      if (closed) return;
      closed = true;
      if (socket.onclose) socket.onclose(ev);
    };
    const task = wx.connectSocket({ url, fail: (err) => closeOnce(err) });
    task.onOpen((ev) => {
      if (!closed && socket.onopen) socket.onopen(ev);
    });
    task.onMessage((ev) => {
      if (!closed && socket.onmessage) socket.onmessage({ data: ev.data });
    });
    // An error may or may not be followed by a close: either ends the socket once.
    task.onError((ev) => closeOnce(ev));
    task.onClose((ev) => closeOnce(ev));
    socket.send = (data) => {
      if (closed) throw new Error('emedia: the socket is closed');
      task.send({ data, fail: () => task.close({}) });
    };
    socket.close = (code) => {
      // The SDK closes on purpose: it expects no callback from a socket it dropped.
      // Code 1000 (logout) tells the server to end the session at once.
      closed = true;
      task.close(code ? { code } : {});
    };
    return socket;
  };
}

module.exports = { wxSocketFactory, isDevelopment };

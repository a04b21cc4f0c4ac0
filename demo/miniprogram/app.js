// The SDK is required once, configured right after require() (the wasm starts
// loading one tick later), and shared by the pages.
const emedia = require('emedia-sdk');

const SERVER = 'http://127.0.0.1:8080';
emedia.config({ server: SERVER });

App({
  globalData: { emedia, server: SERVER },
});

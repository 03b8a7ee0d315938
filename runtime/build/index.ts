// The guest build library: JS and WAT sources to components, with a content-hash cache.

export { buildGuest, guestKind, type GuestBuildResult, type GuestKind, type GuestSpec } from './build-guest.js';
export { buildJsGuest, WASI_FEATURES, type JsGuestOptions, type WasiFeature } from './componentize-js.js';
export { buildCoreModule, buildWatGuest, type CoreModuleOptions, type WatGuestOptions } from './componentize-wat.js';
export { GuestBuildError } from './guest-build-error.js';

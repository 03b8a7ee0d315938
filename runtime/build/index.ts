// The guest build library: JS, TypeScript, Python and WAT sources to components, with a
// content-hash cache.

export { buildGuest, guestKind, type GuestBuildResult, type GuestKind, type GuestSpec } from './build-guest.js';
export { buildJsGuest, WASI_FEATURES, type JsGuestOptions, type WasiFeature } from './componentize-js.js';
export { buildPythonGuest, type PythonGuestOptions } from './componentize-py.js';
export { buildCoreModule, buildWatGuest, type CoreModuleOptions, type WatGuestOptions } from './componentize-wat.js';
export { GuestBuildError } from './guest-build-error.js';
export { defaultWorld, writeGuestTypes, type GuestTypesOptions } from './guest-types.js';
export { ensurePythonTools, findPythonTools, PYTHON_TOOL_PINS, type PythonTools } from './python-tools.js';
export { buildTsGuest, bundleTypeScript, type TsBundle } from './typescript.js';

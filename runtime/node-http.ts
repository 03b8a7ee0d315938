// Node's http module, loaded through require. On Node 24 an ESM import of node:http builds the
// module's namespace from all its exports, and reading `WebSocket`, `CloseEvent` and
// `MessageEvent` among them loads undici, which holds some 15 MiB for as long as the node runs.
// Nothing in an idle node needs undici otherwise (see http/server/fetch-globals.ts): modules of
// the node take http from here.

import { createRequire } from 'node:module';

const nodeHttp = createRequire(import.meta.url)('node:http') as typeof import('node:http');

export default nodeHttp;

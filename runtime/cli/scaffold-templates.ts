// The starting files `enoki new` writes for each guest language: a function that builds and
// deploys as it is. JS, TypeScript and Python start as a counter on the atomics interface (state
// in the function's keygroup); WAT starts as a fixed answer, since a hand-written KV call is a
// page of canonical ABI.

export const LANGUAGES = ['js', 'ts', 'python', 'wat'] as const;
export type Language = (typeof LANGUAGES)[number];

export interface Template {
  /** The file `enoki build` is given. */
  source: string;
  files: Record<string, string>;
  /** Writes the world's TypeScript declarations into types/. */
  types?: boolean;
}

const COUNTER = "Each request adds one to the counter `count` in the function's keygroup and answers the new value.";

function readme(name: string, source: string, lang: string, extra: string, what = COUNTER): string {
  return `# ${name}

A ${lang} function for Enoki, built against the \`enoki:faas\` world (\`function\`). ${what}

Build and deploy it to a running node (\`npx enoki start\`), then call it:

\`\`\`sh
npx enoki build ${source} -o ${name}.wasm && npx enoki deploy ${name}.wasm
npx enoki invoke ${name}
${what === COUNTER ? `npx enoki kv scan ${name.replaceAll('-', '')}        # its keygroup (the name without dashes): count, with its version\n` : ''}\`\`\`
${extra}`;
}

const JS = (name: string): Template => ({
  source: `${name}.js`,
  files: {
    [`${name}.js`]: `// ${name}: counts requests in the function's keygroup.
import { increment } from 'enoki:faas/atomics@0.1.0';
import { write as log } from 'enoki:faas/log@0.1.0';

const encoder = new TextEncoder();

export const handler = {
  handle(req) {
    let count;
    try {
      count = increment('count', 1n); // s64 is a BigInt; atomic, so no concurrent count is lost
    } catch (e) {
      // A failed KV call throws its WIT kv-error as the payload; a thrown string is a 500.
      throw \`kv \${e?.payload?.tag}: \${e?.payload?.val}\`;
    }
    log('info', \`\${req.method} \${req.path}: count \${count}\`);
    return { status: 200, headers: [['content-type', 'text/plain']], body: encoder.encode(\`\${count}\\n\`) };
  },
};
`,
    'README.md': readme(name, `${name}.js`, 'JavaScript', ''),
  },
});

const TS = (name: string): Template => ({
  source: `${name}.ts`,
  types: true,
  files: {
    [`${name}.ts`]: `// ${name}: counts requests in the function's keygroup.
import { increment } from 'enoki:faas/atomics@0.1.0';
import type * as Handler from 'enoki:faas/handler@0.1.0';
import { write as log } from 'enoki:faas/log@0.1.0';

const encoder = new TextEncoder();

/** A failed KV call throws an error whose payload is the WIT kv-error. */
interface KvFailure {
  payload?: { tag: string; val: string };
}

export const handler: typeof Handler = {
  handle(req: Handler.Request): Handler.Response {
    let count: bigint;
    try {
      count = increment('count', 1n); // atomic, so no concurrent count is lost
    } catch (e) {
      const { payload } = e as KvFailure;
      throw \`kv \${payload?.tag}: \${payload?.val}\`; // a thrown string is a 500 with that message
    }
    log('info', \`\${req.method} \${req.path}: count \${count}\`);
    return { status: 200, headers: [['content-type', 'text/plain']], body: encoder.encode(\`\${count}\\n\`) };
  },
};
`,
    'tsconfig.json': `${JSON.stringify(
      {
        compilerOptions: {
          target: 'ES2022',
          module: 'ESNext',
          moduleResolution: 'bundler',
          lib: ['ES2022'],
          strict: true,
          noEmit: true,
          allowImportingTsExtensions: true,
          skipLibCheck: false,
        },
        include: ['*.ts', 'types/**/*.d.ts'],
      },
      null,
      2,
    )}\n`,
    'env.d.ts': `// What the SpiderMonkey engine gives a guest beyond ES2022 (no DOM, no Node).
declare class TextEncoder {
  encode(input?: string): Uint8Array;
}
declare class TextDecoder {
  constructor(label?: string);
  decode(input?: Uint8Array): string;
}
`,
    'README.md': readme(
      name,
      `${name}.ts`,
      'TypeScript',
      `
\`types/\` declares the world's interfaces (generated from the WIT by jco; \`npx enoki types -o types\`
writes them again): an editor, or \`npx tsc -p .\`, checks every call against them. \`enoki build\`
strips the types without checking them.
`,
    ),
  },
});

const PYTHON = (name: string): Template => ({
  source: 'app.py',
  files: {
    'app.py': `"""${name}: counts requests in the function's keygroup."""

from componentize_py_types import Err
from wit_world import exports
from wit_world.exports.handler import Request, Response
from wit_world.imports import atomics, log


class Handler(exports.Handler):
    def handle(self, req: Request) -> Response:
        try:
            count = atomics.increment("count", 1)  # atomic, so no concurrent count is lost
        except Err as e:
            # A failed KV call raises Err(kv-error); raising Err(str) answers a 500 with it.
            raise Err(f"kv {e.value}")
        log.write(log.Level.INFO, f"{req.method} {req.path}: count {count}")
        return Response(200, [("content-type", "text/plain")], f"{count}\\n".encode())
`,
    'README.md': readme(
      name,
      'app.py',
      'Python',
      `
The first Python build installs componentize-py (pinned) into Enoki's tool cache; \`npx enoki
setup python\` does it ahead of time. The \`wit_world\` modules are generated by componentize-py
at build time.
`,
    ),
  },
});

/** A hand-written core module answering "hello from <name>"; the layout follows functions/hello. */
const WAT = (name: string): Template => {
  const body = `hello from ${name}\n`;
  const le = (n: number) => [0, 8, 16, 24].map((s) => `\\${((n >> s) & 0xff).toString(16).padStart(2, '0')}`).join('');
  return {
    source: `${name}.wat`,
    files: {
      [`${name}.wat`]: `;; ${name}: answers 200 "${body.trim()}", in WebAssembly text for the enoki:faas \`function\` world.
;; handle(request) takes the request flattened to 10 i32s (5 pointer/length pairs) and returns a
;; pointer to result<response, string>: tag at +0 (0 = ok), status at +4, headers (ptr, len) at
;; +8, body (ptr, len) at +16. cabi_realloc is a bump allocator above 1024 that
;; cabi_post_... rewinds once the host has read the answer.
(module
  (memory (export "memory") 1)
  (global $heap (mut i32) (i32.const 1024))

  (data (i32.const 16) "content-type")
  (data (i32.const 32) "text/plain")
  ;; the header: name (16, 12), value (32, 10)
  (data (i32.const 48) "${le(16)}${le(12)}${le(32)}${le(10)}")
  ;; the answer: ok, status 200, headers (48, 1), body (128, ${body.length})
  (data (i32.const 64) "${le(0)}${le(200)}${le(48)}${le(1)}${le(128)}${le(body.length)}")
  (data (i32.const 128) "${body.replace('\n', '\\0a')}")

  (func (export "enoki:faas/handler@0.1.0#handle")
    (param i32 i32 i32 i32 i32 i32 i32 i32 i32 i32) (result i32)
    (i32.const 64))

  (func (export "cabi_post_enoki:faas/handler@0.1.0#handle") (param i32)
    (global.set $heap (i32.const 1024)))

  (func (export "cabi_realloc") (param $old i32) (param $old_size i32) (param $align i32) (param $size i32) (result i32)
    (local $ptr i32) (local $end i32)
    (local.set $ptr (i32.and (i32.add (global.get $heap) (i32.sub (local.get $align) (i32.const 1)))
                             (i32.sub (i32.const 0) (local.get $align))))
    (local.set $end (i32.add (local.get $ptr) (local.get $size)))
    (if (i32.gt_u (local.get $end) (i32.shl (memory.size) (i32.const 16)))
      (then (if (i32.eq (memory.grow (i32.add (i32.shr_u (i32.sub (local.get $end) (i32.shl (memory.size) (i32.const 16))) (i32.const 16)) (i32.const 1)))
                        (i32.const -1))
              (then unreachable))))
    (global.set $heap (local.get $end))
    (if (local.get $old)
      (then (memory.copy (local.get $ptr) (local.get $old)
              (select (local.get $old_size) (local.get $size) (i32.lt_u (local.get $old_size) (local.get $size))))))
    (local.get $ptr))
)
`,
      'README.md': readme(name, `${name}.wat`, 'WebAssembly text', '', `It answers every request with "${body.trim()}".`),
    },
  };
};

export const TEMPLATES: Record<Language, (name: string) => Template> = { js: JS, ts: TS, python: PYTHON, wat: WAT };

// Turns a component into what the executor loads: jco's JS glue plus core wasm files. Runs once
// per component at deploy time (0.1–2 s), never on the invocation path.

import fs from 'node:fs/promises';
import path from 'node:path';
import { EnokiError } from '../errors.js';
import { parseComponent } from '../exec/wasm/component.js';
import { ModuleReader } from '../exec/wasm/module.js';
import { checkWorld, type InterfaceTypes } from './component-check.js';
import { importDefinedMemory } from './recycled-memory.js';
import { HTTP_WORLD, httpHandlerExport, type WorldName } from './worlds.js';

/** jco (~12 MB of memory, ~0.1 s to load) is needed only by deploys: loaded on the first. */
const loadJco = () => import('@bytecodealliance/jco');

export interface TranspiledComponent {
  /** File name → contents, as written to the artefact directory. */
  files: Map<string, Uint8Array>;
  glueFile: string;
  coreFiles: string[];
  imports: string[];
  world: WorldName;
}

const GLUE_NAME = 'component';

/**
 * jco's glue reads process.env.JCO_DEBUG on every internal step of every call (tens of µs per
 * invocation in Node); debug logging of generated glue is never wanted in a node.
 */
function stripDebugProbe(glue: string): string {
  return glue.replace('if (!globalThis?.process?.env?.JCO_DEBUG) { return; }', 'return;');
}

/**
 * Makes the glue lift what a guest returns as strictly as the canonical ABI says (and as the
 * inline engine does): a string that is not valid UTF-8 or UTF-16 traps instead of turning into
 * U+FFFD, and a list that lies outside the guest's memory traps instead of being cut to its end
 * (`ArrayBuffer#slice` clamps: a guest could answer with its whole memory).
 */
function strictLifting(glue: string): string {
  const strict = glue
    .replace(/new TextDecoder\(\)/g, "new TextDecoder('utf-8', { fatal: true })")
    .replace(/new TextDecoder\('utf-16'\)/g, "new TextDecoder('utf-16', { fatal: true })")
    .replace(/(\w+)\.buffer\.slice\((\w+), (\2 \+ \w+ \* \d+)\)/g, 'enokiListBytes($1.buffer, $2, $3)');
  return `${strict}
function enokiListBytes(buffer, start, end) {
  if (!(start >= 0 && start <= end && end <= buffer.byteLength)) throw new RangeError('a list lies outside the guest memory');
  return buffer.slice(start, end);
}
`;
}

function interfaceTypesOf(files: Record<string, Uint8Array>): InterfaceTypes {
  const types: InterfaceTypes = new Map();
  for (const [name, bytes] of Object.entries(files)) {
    const match = /^interfaces\/(.+)\.d\.ts$/.exec(name);
    if (!match) continue;
    const text = Buffer.from(bytes).toString('utf8');
    const header = /@module Interface (\S+)/.exec(text);
    types.set(header ? header[1] : match[1], text);
  }
  return types;
}

/**
 * Import and export names with their versions, which jco's lists leave out (a world check needs
 * them: wasi:keyvalue drafts differ by version only). Undefined when the binary has a shape the
 * reader does not cover; jco's names are used then.
 */
function versionedNames(bytes: Uint8Array): { imports: string[]; exports: string[] } | undefined {
  try {
    const plan = parseComponent(bytes);
    return { imports: plan.imports, exports: plan.exports };
  } catch {
    return undefined;
  }
}

/**
 * Whether a wasi:http component's memory may be recycled between its instances (see
 * recycled-memory.ts): only when it exports nothing but its handler (and `run`). An exported
 * resource would have jco's glue call into a dropped instance when the resource is collected,
 * which must not write into a memory another instance has now.
 */
function recyclable(exports: string[]): boolean {
  const handler = httpHandlerExport(exports);
  return exports.every((name) => name === handler || name === 'incomingHandler' || /^wasi:cli\/run@0\.2\./.test(name) || name === 'run');
}

export class Transpiler {
  #reference?: Promise<InterfaceTypes>;

  constructor(private readonly witDir: string) {}

  /** Enoki's own interface types, from a component made of nothing but the WIT. */
  reference(): Promise<InterfaceTypes> {
    this.#reference ??= (async () => {
      const witSource = await fs.readFile(path.join(this.witDir, 'enoki.wit'), 'utf8');
      const { componentEmbed, componentNew, transpile } = await loadJco();
      const core = await componentEmbed({ witSource, dummy: true, world: 'function' });
      const out = await transpile(await componentNew(core), { name: 'reference', instantiation: 'async' });
      return interfaceTypesOf(out.files);
    })();
    return this.#reference;
  }

  async transpile(bytes: Uint8Array): Promise<TranspiledComponent> {
    const { transpile } = await loadJco();
    let out: Awaited<ReturnType<typeof transpile>>;
    try {
      out = await transpile(bytes, { name: GLUE_NAME, instantiation: 'async', nodejsCompat: false });
    } catch (err) {
      const reason = err instanceof Error ? err.message.split('\n')[0] : String(err);
      throw new EnokiError('ERR_INVALID_COMPONENT', `the component is malformed: ${reason}`);
    }
    const names = versionedNames(bytes) ?? { imports: out.imports, exports: out.exports.map(([name]) => name) };
    const world = checkWorld({ ...names, interfaceTypes: interfaceTypesOf(out.files) }, await this.reference());

    const files = new Map<string, Uint8Array>();
    const coreFiles: string[] = [];
    const recycle = world === HTTP_WORLD && recyclable(names.exports);
    for (const [name, original] of Object.entries(out.files)) {
      if (name.endsWith('.wasm')) {
        const contents = (recycle && importDefinedMemory(original)) || original;
        // Function bodies are compiled and validated lazily at run time (exec/wasm-flags.ts):
        // the whole module is validated here, once, so a bad body fails the deploy, not a call.
        if (!WebAssembly.validate(contents as Uint8Array<ArrayBuffer>)) {
          throw new EnokiError('ERR_INVALID_COMPONENT', `the component is malformed: core module ${name} does not validate`);
        }
        // GC objects live in the node's own heap, where no memory limit of the function holds
        // them: a guest could fill it (and take the node down with it) from either engine.
        if (new ModuleReader(contents).gcTypes) {
          throw new EnokiError('ERR_INVALID_COMPONENT', `core module ${name} declares WebAssembly GC types (structs or arrays), which this node does not run: their objects would escape the function's memory limit`);
        }
        files.set(name, contents);
        coreFiles.push(name);
      } else if (name === `${GLUE_NAME}.js`) {
        files.set('component.mjs', Buffer.from(strictLifting(stripDebugProbe(Buffer.from(original).toString('utf8')))));
      }
    }
    return { files, glueFile: 'component.mjs', coreFiles, imports: out.imports, world };
  }
}

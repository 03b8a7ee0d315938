// Where compiled guest code lives on disk (templates.ts): under a directory of its format, so
// that a node upgraded to a new template format neither reads what the old one wrote nor keeps
// it (a JS engine's template is 12 MB a format), while a restart keeps and reuses its own.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parse } from '@bytecodealliance/jco';
import pino from 'pino';
import { test } from '../../../helpers/suite.js';
import * as assert from 'uvu/assert';
import { TemplateStore } from '../../../../runtime/exec/inline/templates.js';
import { analyzeModule } from '../../../../runtime/exec/wasm/module.js';

async function files(dir: string): Promise<string[]> {
  return (await fs.readdir(dir, { recursive: true })).map(String).sort();
}

async function until(check: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 100 && !(await check()); i++) await new Promise((r) => setTimeout(r, 20));
}

test('an upgraded store removes what other formats left and keeps its own across restarts', async () => {
  const root = await fs.mkdtemp(path.join(os.tmpdir(), 'enoki-templates-'));
  try {
    // What earlier formats wrote: flat files, and a directory of another format.
    await fs.writeFile(path.join(root, 'old-template.wasm'), new Uint8Array(1024));
    await fs.writeFile(path.join(root, 'old-family.json'), '{"paramSites":[]}');
    await fs.mkdir(path.join(root, 'v1'));
    await fs.writeFile(path.join(root, 'v1', 'x.wasm'), new Uint8Array(16));

    const store = new TemplateStore(root, true, pino({ level: 'silent' }));
    const bytes = await parse('(module (memory 1) (func (export "run") (result i32) (i32.const 7)))');
    const { module } = await store.template(analyzeModule(bytes), async () => bytes);
    assert.ok(module instanceof WebAssembly.Module);
    const format = path.basename(store.dir);
    await until(async () => (await fs.readdir(root)).length === 1);
    assert.equal(await fs.readdir(root), [format], 'only this format is left');
    const own = await files(store.dir);
    assert.ok(own.some((f) => f.endsWith('.wasm')), `the template was written: ${own}`);

    // A restart of the same format finds its template and deletes none of it.
    const again = new TemplateStore(root, true, pino({ level: 'silent' }));
    await again.template(analyzeModule(bytes), async () => {
      throw new Error('a restart must not build the template again');
    });
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(await files(again.dir), own);
  } finally {
    await fs.rm(root, { recursive: true, force: true });
  }
});

test.run();

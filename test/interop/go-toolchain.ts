// The Go toolchain that FReD's build script needs. The machine's `go` when it has one: on PATH,
// or in /usr/local/go/bin, where Go's own installer puts it and where a shell started without a
// login profile (a service, `env -i`) does not look. Without either, Go GO_VERSION from the Go
// module proxy: the toolchain module `golang.org/toolchain`, which the go command itself fetches
// for GOTOOLCHAIN, checked against a pinned SHA-256 (the zip `go mod download` verified against
// Go's checksum database) and unpacked once under the user's cache directory.
//
// Synchronous, as obtainFred is: the download runs in a child Node process (fetch), the unpacking
// in Python's zipfile (which keeps the files' modes; the test tools need python3 anyway).

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

export const GO_VERSION = '1.26.8';

/** SHA-256 of golang.org/toolchain@v0.0.1-go{GO_VERSION}.linux-{arch}.zip, by Node's process.arch. */
const ZIP_SHA256: Record<string, { goArch: string; sha256: string }> = {
  x64: { goArch: 'amd64', sha256: '30c2b1bf7dcc88d3eb0a1364e47ddd9128edb3110a30e8a0ef61cd5856b31de7' },
  arm64: { goArch: 'arm64', sha256: '02b36b6787b3ac767668f630e2998df45a3b1f9ffee08d1bf3ef6487cd658d99' },
};

const DOWNLOAD_TIMEOUT_MS = 10 * 60_000;

/** Fetches argv[1] into argv[2] when its SHA-256 is argv[3]; exits 1 saying why not. */
const DOWNLOAD = `
import { createHash } from 'node:crypto';
import fs from 'node:fs';
const [url, file, expected] = process.argv.slice(1);
let bytes;
try {
  const response = await fetch(url);
  if (!response.ok) throw new Error(\`HTTP \${response.status}\`);
  bytes = Buffer.from(await response.arrayBuffer());
} catch (err) {
  console.error(\`GET \${url}: \${err.cause?.code ?? err.cause?.message ?? err.message}\`);
  process.exit(1);
}
const actual = createHash('sha256').update(bytes).digest('hex');
if (actual !== expected) { console.error(\`\${url}: SHA-256 \${actual}, expected \${expected}\`); process.exit(1); }
fs.writeFileSync(file, bytes);
`;

/** Unpacks zip argv[1] into directory argv[2] with each file's mode. */
const UNZIP = `
import os, sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z:
    for info in z.infolist():
        target = z.extract(info, sys.argv[2])
        mode = (info.external_attr >> 16) & 0o777
        if mode and not info.is_dir():
            os.chmod(target, mode)
`;

/** Where Go's own installer puts the go command. */
const INSTALLED_GO = '/usr/local/go/bin';

/** A directory of `envPath` or `alsoIn` with `go` in it; undefined when there is none. */
export function machineGo(envPath = process.env.PATH ?? '', alsoIn = [INSTALLED_GO]): string | undefined {
  const dirs = [...envPath.split(path.delimiter).filter(Boolean), ...alsoIn];
  return dirs.find((dir) => isExecutable(path.join(dir, 'go')));
}

function isExecutable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

/** The first HTTP(S) proxy of GOPROXY (a mirror a site configured), else Go's public proxy. */
function moduleProxy(): string {
  const entries = (process.env.GOPROXY ?? '').split(/[,|]/);
  return (entries.find((e) => /^https?:\/\//.test(e)) ?? 'https://proxy.golang.org').replace(/\/+$/, '');
}

/**
 * The directory holding the `go` to build with: the machine's, or the pinned toolchain (fetched
 * into `cacheDir` the first time). Throws saying why when neither can be had.
 */
export function goBinDir(cacheDir: string): { bin: string; pinned: boolean } {
  const local = machineGo();
  return local ? { bin: local, pinned: false } : { bin: pinnedGo(cacheDir), pinned: true };
}

/** The bin directory of the pinned toolchain in `cacheDir`, fetched and unpacked there if missing. */
export function pinnedGo(cacheDir: string): string {
  const pinned = ZIP_SHA256[process.arch];
  if (!pinned) throw new Error(`no go on PATH or in /usr/local/go/bin, and no pinned Go toolchain for ${process.arch}`);
  const module = `v0.0.1-go${GO_VERSION}.linux-${pinned.goArch}`;
  const root = path.join(cacheDir, 'enoki-go', module);
  const bin = path.join(root, `golang.org/toolchain@${module}`, 'bin');
  if (isExecutable(path.join(bin, 'go'))) return bin;

  const url = `${moduleProxy()}/golang.org/toolchain/@v/${module}.zip`;
  process.stderr.write(`no go on PATH or in /usr/local/go/bin: fetching Go ${GO_VERSION} from ${url} (once, ~70 MB)\n`);
  fs.mkdirSync(path.dirname(root), { recursive: true });
  const staging = `${root}.partial-${process.pid}`;
  fs.rmSync(staging, { recursive: true, force: true });
  fs.mkdirSync(staging);
  try {
    const zip = path.join(staging, 'toolchain.zip');
    // The system's certificate store too, where the Node has the flag: a site's TLS proxy is
    // trusted there, and NODE_EXTRA_CA_CERTS may not reach this process.
    const systemCa = process.allowedNodeEnvironmentFlags.has('--use-system-ca') ? ['--use-system-ca'] : [];
    run(process.execPath, [...systemCa, '--input-type=module', '-e', DOWNLOAD, url, zip, pinned.sha256], 'downloading Go');
    run('python3', ['-c', UNZIP, zip, staging], 'unpacking Go');
    fs.rmSync(zip);
    try {
      fs.renameSync(staging, root);
    } catch (err) {
      // Another process got there first: its copy is as good as this one.
      if (!isExecutable(path.join(bin, 'go'))) throw err;
    }
  } finally {
    fs.rmSync(staging, { recursive: true, force: true });
  }
  if (!isExecutable(path.join(bin, 'go'))) throw new Error(`unpacking Go ${GO_VERSION} left no ${path.join(bin, 'go')}`);
  return bin;
}

function run(command: string, args: string[], what: string): void {
  const result = spawnSync(command, args, { encoding: 'utf8', timeout: DOWNLOAD_TIMEOUT_MS, stdio: ['ignore', 'ignore', 'pipe'] });
  if (result.status !== 0) {
    const reason = (result.stderr || result.error?.message || `exit ${result.status}`).trim().split('\n').slice(-2).join(' | ');
    throw new Error(`${what} failed: ${reason}`);
  }
}

// Walks and rewrites the instruction streams of a core module's code section. One pass decodes
// every instruction (so that no immediate byte is mistaken for an opcode) and copies it to the
// output, with three changes a caller may ask for:
//   - a metering check injected at the top of every loop body, and at the entry of the functions
//     the caller picks from what the pass reports of each body (its calls and its size: see
//     call-graph.ts);
//   - function indices renumbered (a function import was added in front of the defined ones);
//   - chosen `i64.const` sites replaced by `global.get` of a per-instance parameter, so modules
//     that differ only in those constants can share one compiled template.
// The same pass also reports every i64.const value in order and a hash of the code with those
// values zeroed, which is how modules of one engine are recognised.
//
// Opcodes it does not know (the GC proposal, future prefixes) are refused with a WasmFormatError:
// the caller then runs the module unmetered on a worker, where termination bounds it.

import { createHash } from 'node:crypto';
import { ByteWriter, Reader, s32Leb, u32Leb, WasmFormatError } from './binary.js';

/** What one function body does that decides whether its entry needs a metering check. */
export interface BodyFacts {
  /** Instructions in the body, each counted once (loops are checked at their tops). */
  instructions: number;
  /** Function indices of its direct calls and tail calls, one per call site, as in the input. */
  calls: number[];
  /** Type indices of its indirect calls (call_indirect, call_ref and their tail forms). */
  indirect: number[];
  /** Functions it takes a reference to (ref.func): they may be called indirectly. */
  refs: number[];
}

export interface MeterRewrite {
  fuelGlobal: number;
  /** The function the check calls when the fuel runs out (see meterSlowPath); appended to the code. */
  slowFunc: number;
  checkFunc: number;
  suspendFunc: number;
  /** Given every body's facts, in order: a 1 for each function whose entry gets the check. */
  entries: (bodies: BodyFacts[]) => Uint8Array;
}

export interface CodeRewrite {
  /** Inject the metering check; the global and functions it uses must exist in the output module. */
  meter?: MeterRewrite;
  /** Function indices at or above this are shifted by `shiftBy` (function imports were added). */
  shiftFuncsFrom?: number;
  shiftBy?: number;
  /** i64.const sites (in order of appearance, 0-based) replaced by global.get of the given global. */
  params?: Map<number, number>;
}

export interface CodeScan {
  /** The rewritten code section contents (when a rewrite was asked for). */
  code?: Uint8Array;
  /** Every i64.const value, in order of appearance. */
  i64Consts: BigInt64Array;
  /** sha256 of the code section with every i64.const immediate left out. */
  looseHash: string;
  /** The code names data segments (memory.init, data.drop): their indices must stay. */
  usesDataSegments: boolean;
}

/**
 * The check, at a function entry or a loop top:
 *   if (fuel == 0) slow()
 *   fuel = fuel - 1
 * Its rare part is a function of its own (meterSlowPath), so that the check stays a load, a
 * test and a store: a host call inside every checked function would cost it more (spilled
 * registers, no inlining).
 */
function meterCheck(meter: MeterRewrite): number[] {
  const g = u32Leb(meter.fuelGlobal);
  return [
    0x23, ...g, 0x45, 0x04, 0x40, // global.get fuel; i32.eqz; if
    0x10, ...u32Leb(meter.slowFunc), // call slow
    0x0b, // end
    0x23, ...g, 0x41, ...s32Leb(-1), 0x6a, 0x24, ...g, // fuel += -1
  ];
}

/**
 * The body of the function the check calls when the fuel has run out:
 *   switch (check()) { case 0: break; case 1: unreachable; default: suspend() }
 * `check` (a plain import) refills the fuel and says whether to go on, to trap (past the
 * deadline: a trap, unlike an exception, cannot be caught by wasm code) or to suspend (the time
 * slice is used up: `suspend` is a JSPI import, only ever called when the stack can suspend).
 */
function meterSlowPath(meter: MeterRewrite): number[] {
  const body = [
    0x00, // no locals
    0x02, 0x40, 0x02, 0x40, 0x02, 0x40, // block $done; block $suspend; block $trap
    0x10, ...u32Leb(meter.checkFunc), // call check
    0x0e, 0x02, 0x02, 0x00, 0x01, // br_table [$done $trap] default $suspend
    0x0b, 0x00, // end $trap; unreachable
    0x0b, 0x10, ...u32Leb(meter.suspendFunc), // end $suspend; call suspend
    0x0b, 0x0b, // end $done; end
  ];
  return [...u32Leb(body.length), ...body];
}

/** Skips a block type: empty, a value type (possibly a reference type with a heap type), or a type index. */
function blockType(r: Reader): void {
  const b = r.bytes[r.pos];
  if (b === 0x63 || b === 0x64) {
    r.pos++;
    r.s33();
  } else r.s33();
}

function memarg(r: Reader): void {
  const align = r.u32();
  if (align & 0x40) r.u32(); // multi-memory: an explicit memory index
  r.skipLeb(); // offset (u64 for memory64)
}

/** Instructions with a single u32 index immediate and nothing else to change. */
const ONE_INDEX = new Set([0x07, 0x08, 0x09, 0x0c, 0x0d, 0x18, 0x20, 0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x3f, 0x40, 0xd5, 0xd6]);

class Walker {
  readonly #w?: ByteWriter;
  readonly #hash = createHash('sha256');
  #copied: number;
  usesDataSegments = false;
  /** Filled in when metering is asked for. */
  readonly facts?: BodyFacts;

  /** `consts` collects i64.const values across all bodies: a site's index is its position there. */
  constructor(
    readonly r: Reader,
    readonly rewrite: CodeRewrite | undefined,
    private readonly consts: bigint[] = [],
    collect = rewrite?.meter !== undefined,
  ) {
    this.#copied = r.pos;
    if (rewrite) this.#w = new ByteWriter(r.end - r.pos + 1024);
    if (collect) this.facts = { instructions: 0, calls: [], indirect: [], refs: [] };
  }

  /** Copies input bytes up to the reader's position (to output and hash). */
  flush(upTo = this.r.pos): void {
    if (upTo > this.#copied) {
      const chunk = this.r.bytes.subarray(this.#copied, upTo);
      this.#hash.update(chunk);
      this.#w?.bytes(chunk);
    }
    this.#copied = upTo;
  }

  /** Drops input bytes from the copy (they are replaced by `out`, which is not hashed). */
  replace(from: number, to: number, out: number[] | undefined): void {
    this.flush(from);
    this.#copied = to;
    if (out) this.#w!.bytes(out);
  }

  get writer(): ByteWriter | undefined {
    return this.#w;
  }

  funcIndex(into?: number[]): void {
    const start = this.r.pos;
    const index = this.r.u32();
    into?.push(index);
    const from = this.rewrite?.shiftFuncsFrom;
    if (from !== undefined && index >= from) this.replace(start, this.r.pos, u32Leb(index + (this.rewrite!.shiftBy ?? 1)));
  }

  i64Const(): void {
    const start = this.r.pos;
    const value = this.r.s64();
    const site = this.consts.length;
    this.consts.push(value);
    // Left out of the hash: modules that differ only in these constants hash alike.
    this.flush(start);
    this.#copied = this.r.pos;
    const param = this.rewrite?.params?.get(site);
    if (param !== undefined) {
      // The opcode 0x42 was already copied: turn it into global.get by rewriting the last byte.
      this.#w!.length--;
      this.#w!.bytes([0x23, ...u32Leb(param)]);
    } else if (this.#w) this.#w.bytes(this.r.bytes.subarray(start, this.r.pos));
  }

  /** Decodes one instruction whose opcode byte was just read. */
  instruction(op: number): void {
    const r = this.r;
    const facts = this.facts;
    if (facts) facts.instructions++;
    if (op <= 0x01 || op === 0x05 || op === 0x0a || op === 0x0b || op === 0x0f || op === 0x19 || op === 0x1a || op === 0x1b) return;
    if (op >= 0x45 && op <= 0xc4) return; // numeric
    if (ONE_INDEX.has(op)) return void r.u32();
    if (op >= 0x28 && op <= 0x3e) return memarg(r);
    switch (op) {
      case 0x02:
      case 0x04:
      case 0x06:
        return blockType(r);
      case 0x03:
        blockType(r);
        if (this.rewrite?.meter) {
          this.flush();
          this.#w!.bytes(meterCheck(this.rewrite.meter));
        }
        return;
      case 0x0e:
        for (let n = r.u32(); n >= 0; n--) r.u32();
        return;
      case 0x10:
      case 0x12:
        return this.funcIndex(facts?.calls);
      case 0x11:
      case 0x13:
        facts?.indirect.push(r.u32());
        r.u32();
        return;
      case 0x14:
      case 0x15:
        return void facts?.indirect.push(r.u32());
      case 0x1c:
        for (let n = r.u32(); n > 0; n--) blockType(r);
        return;
      case 0x1f:
        blockType(r);
        for (let n = r.u32(); n > 0; n--) {
          const kind = r.u8();
          if (kind <= 0x01) r.u32();
          r.u32();
        }
        return;
      case 0x41:
        return r.skipLeb();
      case 0x42:
        return this.i64Const();
      case 0x43:
        return r.skip(4);
      case 0x44:
        return r.skip(8);
      case 0xd0:
        return void r.s33();
      case 0xd1:
      case 0xd3:
      case 0xd4:
        return;
      case 0xd2:
        return this.funcIndex(facts?.refs);
      case 0xfc:
        return this.#prefixFC(r.u32());
      case 0xfd:
        return this.#prefixFD(r.u32());
      case 0xfe:
        return this.#prefixFE(r.u32());
      default:
        throw new WasmFormatError(`unsupported opcode 0x${op.toString(16)}`, r.pos - 1);
    }
  }

  #prefixFC(sub: number): void {
    const r = this.r;
    if (sub <= 7) return;
    if (sub === 8 || sub === 9) this.usesDataSegments = true;
    if (sub === 8 || sub === 10 || sub === 12 || sub === 14) {
      r.u32();
      r.u32();
    } else if (sub === 9 || sub === 11 || sub === 13 || sub === 15 || sub === 16 || sub === 17) r.u32();
    else throw new WasmFormatError(`unsupported opcode 0xfc ${sub}`, r.pos);
  }

  #prefixFD(sub: number): void {
    const r = this.r;
    if (sub <= 11 || sub === 92 || sub === 93) return memarg(r);
    if (sub === 12 || sub === 13) return r.skip(16);
    if (sub >= 21 && sub <= 34) return r.skip(1);
    if (sub >= 84 && sub <= 91) {
      memarg(r);
      return r.skip(1);
    }
    if (sub <= 0x113) return; // the rest of SIMD and relaxed SIMD take no immediates
    throw new WasmFormatError(`unsupported opcode 0xfd ${sub}`, r.pos);
  }

  #prefixFE(sub: number): void {
    if (sub === 0x03) return this.r.skip(1);
    if (sub <= 0x4e) return memarg(this.r);
    throw new WasmFormatError(`unsupported opcode 0xfe ${sub}`, this.r.pos);
  }

  /** A constant expression (globals, element and data offsets), up to and including its `end`. */
  expression(): void {
    for (;;) {
      const op = this.r.u8();
      if (op === 0x0b) return;
      this.instruction(op);
    }
  }

  finish(): string {
    this.flush();
    return this.#hash.digest('hex');
  }
}

/** Walks (and optionally rewrites) a code section's contents. */
export function scanCode(code: Uint8Array, rewrite?: CodeRewrite): CodeScan {
  const r = new Reader(code);
  const count = r.u32();
  const hash = createHash('sha256');
  const consts: bigint[] = [];
  let usesDataSegments = false;
  // Rewritten bodies wait for the metering to pick the entries that get a check (it needs them all).
  const bodies: { bytes: Uint8Array; entry: number }[] = [];
  const facts: BodyFacts[] = [];
  for (let f = 0; f < count; f++) {
    const size = r.u32();
    const end = r.pos + size;
    const body = new Reader(code, r.pos, end);
    const walker = new Walker(body, rewrite, consts);
    for (let groups = body.u32(); groups > 0; groups--) {
      body.u32();
      const b = body.u8();
      if (b === 0x63 || b === 0x64) body.s33();
    }
    walker.flush();
    const entry = walker.writer?.length ?? 0;
    while (!body.done) walker.instruction(body.u8());
    hash.update(walker.finish());
    usesDataSegments ||= walker.usesDataSegments;
    if (walker.writer) bodies.push({ bytes: walker.writer.result(), entry });
    if (walker.facts) facts.push(walker.facts);
    r.pos = end;
  }
  return { code: rewrite && assemble(bodies, rewrite.meter, facts), i64Consts: BigInt64Array.from(consts), looseHash: hash.digest('hex'), usesDataSegments };
}

/** The code section from rewritten bodies, with the check spliced in at the entries the meter picks. */
function assemble(bodies: { bytes: Uint8Array; entry: number }[], meter: MeterRewrite | undefined, facts: BodyFacts[]): Uint8Array {
  const entries = meter?.entries(facts);
  const check = meter && meterCheck(meter);
  const out = new ByteWriter(bodies.reduce((n, b) => n + b.bytes.length + 5, 64));
  out.u32(bodies.length + (meter ? 1 : 0));
  bodies.forEach(({ bytes, entry }, f) => {
    if (!entries?.[f] || !check) {
      out.u32(bytes.length);
      out.bytes(bytes);
      return;
    }
    out.u32(bytes.length + check.length);
    out.bytes(bytes.subarray(0, entry));
    out.bytes(check);
    out.bytes(bytes.subarray(entry));
  });
  if (meter) out.bytes(meterSlowPath(meter));
  return out.result();
}

/** Reads one constant expression up to and including its `end`; returns the functions it references (ref.func). */
export function expressionRefs(r: Reader): number[] {
  const walker = new Walker(r, undefined, [], true);
  walker.expression();
  return walker.facts!.refs;
}

/**
 * Copies one constant expression (a global's init, an element item or offset) up to and
 * including its `end`, renumbering function indices as `shiftFuncsFrom` says.
 */
export function rewriteExpression(bytes: Uint8Array, shiftFuncsFrom: number | undefined, shiftBy = 1): { out: Uint8Array; end: number } {
  const r = new Reader(bytes);
  const walker = new Walker(r, { shiftFuncsFrom, shiftBy });
  walker.expression();
  walker.finish();
  return { out: walker.writer!.result(), end: r.pos };
}

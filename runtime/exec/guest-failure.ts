// How a guest call's outcome is judged, the same way whichever engine ran it: whether a response
// is valid, and what a thrown value means (a trap, the guest's own `err`, running out of its
// memory cap).

import type { GuestFailure, GuestResponse, LogLine } from './protocol.js';
import { responseFieldsProblem } from './response-fields.js';

const badResponse = (message: string) => Object.assign(new Error(message), { failure: 'bad-response' as const });

/** The response of Enoki's world a guest returned, if it can be sent; `method` is the request's. */
export function checkResponse(value: unknown, method: string | undefined): GuestResponse {
  const r = value as GuestResponse;
  if (
    !r ||
    typeof r.status !== 'number' ||
    r.status < 200 ||
    r.status > 599 ||
    !Array.isArray(r.headers) ||
    !(r.body instanceof Uint8Array)
  ) {
    throw badResponse(`the guest returned an invalid response (status ${String(r?.status)}; a response's status is 200–599)`);
  }
  const problem = responseFieldsProblem(r.status, r.headers, r.body.byteLength, method);
  if (problem) throw badResponse(`the guest returned a response that cannot be sent: ${problem}`);
  return r;
}

/** The instance's linear memory when its call failed. */
export interface MemoryUse {
  /** What it holds now. */
  heldBytes: number;
  /** Its cap. */
  limitBytes: number;
  /** Whether it grew during the call. */
  grew: boolean;
}

/**
 * The failure a thrown value stands for; `logs` are the call's log lines (a guest with stdio
 * reports an uncaught exception on stderr before it traps: that is the message a user wants next
 * to the trap).
 */
export function describeFailure(err: unknown, memory: MemoryUse, logs: LogLine[]): { kind: GuestFailure; message: string } {
  if ((err as { failure?: GuestFailure })?.failure) {
    return { kind: (err as { failure: GuestFailure }).failure, message: (err as Error).message };
  }
  // jco raises a ComponentError (an Error with an own `payload`) for the guest's `err` result.
  if (err instanceof Error && err.constructor.name === 'ComponentError' && Object.hasOwn(err, 'payload')) {
    const payload = (err as { payload?: unknown }).payload;
    return guestError(typeof payload === 'string' ? payload : err.message, memory);
  }
  let failure: { kind: GuestFailure; message: string };
  if (err instanceof RangeError && /call stack/i.test(err.message)) {
    failure = { kind: 'trap', message: 'stack overflow' };
  } else {
    failure = { kind: 'trap', message: err instanceof Error ? err.message : String(err) };
  }
  if (atMemoryCap(failure.message, memory)) return memoryFailure(failure.message, memory.limitBytes);
  if (failure.kind === 'trap') {
    const excerpt = stderrExcerpt(logs);
    if (excerpt) failure.message += ` (stderr: ${excerpt})`;
  }
  return failure;
}

/** Lines of stderr a trap's message quotes at most: the first and the last ones. */
const EXCERPT_LINES = 4;
const EXCERPT_LINE_CHARS = 300;
/** Boilerplate a Rust guest's panic ends with. */
const RUST_BACKTRACE_NOTE = /^note: run with `RUST_BACKTRACE=1`/;

/**
 * What a trapping guest wrote to stderr, for its error message (the whole of it is in the
 * invocation's logs). Indented lines are left out: they are the frames of a stack (a Python
 * traceback's, a Rust backtrace's) between a failure's heading and its cause. Of what remains,
 * every line when there are few, else the first and the last two: languages put the cause at
 * either end, a Rust panic first, a Python traceback last (`ValueError: …`).
 */
export function stderrExcerpt(logs: LogLine[]): string | undefined {
  const lines = logs
    .filter((l) => l.stream === 'stderr' && l.message.trim() !== '' && !/^\s/.test(l.message) && !RUST_BACKTRACE_NOTE.test(l.message))
    .map((l) => clip(l.message.trim()));
  if (lines.length === 0) return undefined;
  if (lines.length <= EXCERPT_LINES) return lines.join(' | ');
  const left = lines.length - 3;
  return [lines[0], `… ${left} more line${left === 1 ? '' : 's'} …`, ...lines.slice(-2)].join(' | ');
}

const clip = (line: string) => (line.length > EXCERPT_LINE_CHARS ? `${line.slice(0, EXCERPT_LINE_CHARS - 1)}…` : line);

/**
 * At its memory cap a guest fails however its language reports it (SpiderMonkey returns
 * err("out of memory"), Rust aborts, C traps on a null pointer), and the allocation that failed
 * may have asked for much more than what is left. A call that grew the memory to near the cap is
 * a memory failure; one that says it ran out of memory, at half of it already. A call that grew
 * nothing failed for reasons of its own, however full an earlier call left the memory (a C guest
 * goes on after a malloc that failed, and a guest's allocator seldom gives memory back).
 */
function atMemoryCap(message: string, { heldBytes, limitBytes, grew }: MemoryUse): boolean {
  const saysOom = /out of memory/i.test(message);
  return limitBytes > 0 && ((grew && heldBytes >= limitBytes * 0.9) || (saysOom && heldBytes >= limitBytes * 0.5));
}

function memoryFailure(message: string, limitBytes: number): { kind: GuestFailure; message: string } {
  return { kind: 'memory', message: `out of memory at the instance's limit of ${limitBytes / 2 ** 20} MiB (${message})` };
}

/** The guest returned `err(message)`: its own error, unless it ran out of memory at its cap. */
export function guestError(message: string, memory: MemoryUse): { kind: GuestFailure; message: string } {
  return atMemoryCap(message, memory) ? memoryFailure(message, memory.limitBytes) : { kind: 'error', message };
}

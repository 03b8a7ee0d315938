// A wasi:http function's response as it is produced: the client gets the status and headers when
// the guest sets them and the body as the guest writes it. The body ends only when the call has
// ended and its key-value writes are committed; a call that fails after its head was sent (a
// trap, a timeout, a malformed body, a failed commit) ends the body with an error, so the client
// sees an aborted response, never a complete-looking one (the last bytes of a body with a
// content-length are held until then).

import type { Invocation, ResponseStream, StreamedHead } from '../invoke/invoker.js';

export type InvocationOutcome =
  | { kind: 'whole'; invocation: Invocation }
  | { kind: 'streamed'; head: StreamedHead; body: ReadableStream<Uint8Array> };

/**
 * Runs `invoke` with a ResponseStream; settles at the response head (a streamed call) or at the
 * end of the call (everything else, and a call that fails before its head). `abort` ends the
 * client's connection at once when a call fails after its head (without it, the body errors).
 */
export async function invokeStreaming(invoke: (stream: ResponseStream) => Promise<Invocation>, abort?: () => void): Promise<InvocationOutcome> {
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  let cancelled = false;
  const body = new ReadableStream<Uint8Array>({
    start: (c) => {
      controller = c;
    },
    cancel: () => {
      cancelled = true;
    },
  });
  let announce!: (head: StreamedHead) => void;
  const head = new Promise<StreamedHead>((resolve) => (announce = resolve));
  // With a content-length the client takes the body as complete at its last byte, whatever
  // happens after: the chunk that completes it waits for the end of the call.
  let declared: number | undefined;
  let sent = 0;
  let last: Uint8Array | undefined;
  const done = invoke({
    head: (h) => {
      const length = h.headers.find(([name]) => name === 'content-length')?.[1];
      declared = length !== undefined && /^\s*\d+\s*$/.test(length) ? Number(length) : undefined;
      announce(h);
    },
    chunk: (bytes) => {
      if (cancelled) return;
      sent += bytes.byteLength;
      if (declared !== undefined && sent >= declared) last = bytes;
      else controller.enqueue(bytes);
    },
  });
  const first = await Promise.race([head.then((h) => ({ head: h })), done.then((invocation) => ({ invocation }))]);
  if ('invocation' in first && !first.invocation.streamed) return { kind: 'whole', invocation: first.invocation };
  done.then(
    () => {
      if (cancelled) return;
      if (last) controller.enqueue(last);
      controller.close();
    },
    (err: unknown) => {
      if (cancelled) return;
      // The server then cancels the body itself; an errored body would also be logged by it.
      if (abort) abort();
      else controller.error(err);
    },
  );
  return { kind: 'streamed', head: 'head' in first ? first.head : await head, body };
}

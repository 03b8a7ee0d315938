// A wasi:http function's response as it is produced: the client gets the status and headers when
// the guest sets them and the body as the guest writes it. The body ends only when the call has
// ended and its key-value writes are committed; a call that fails after its head was sent (a
// trap, a timeout, a malformed body, a failed commit) ends the body with an error, so the client
// sees an aborted response, never a complete-looking one (the last bytes of a body with a
// content-length are held until then). A client that stops reading while the guest goes on
// writing has its response aborted once MAX_UNREAD_BYTES wait for it: the node does not hold an
// endless body for a client that takes none of it.

import type { Invocation, ResponseStream, StreamedHead } from '../invoke/invoker.js';

/** Bytes of a streamed body that may wait for the client to read them. */
export const MAX_UNREAD_BYTES = 16 * 1024 * 1024;

export type InvocationOutcome =
  | { kind: 'whole'; invocation: Invocation }
  | { kind: 'streamed'; head: StreamedHead; body: ReadableStream<Uint8Array> };

/**
 * Runs `invoke` with a ResponseStream; settles at the response head (a streamed call) or at the
 * end of the call (everything else, and a call that fails before its head). `abort` ends the
 * client's connection at once when a call fails after its head (without it, the body errors).
 * A call that never announces a head (every call of a function not of the wasi:http world)
 * costs no stream: the body is made at the head.
 */
export function invokeStreaming(invoke: (stream: ResponseStream) => Promise<Invocation>, abort?: () => void): Promise<InvocationOutcome> {
  return new Promise<InvocationOutcome>((settle, fail) => {
    let controller: ReadableStreamDefaultController<Uint8Array> | undefined;
    let body: ReadableStream<Uint8Array> | undefined;
    let cancelled = false;
    // With a content-length the client takes the body as complete at its last byte, whatever
    // happens after: the chunk that completes it waits for the end of the call.
    let declared: number | undefined;
    let sent = 0;
    let last: Uint8Array | undefined;
    const open = (): ReadableStreamDefaultController<Uint8Array> => {
      if (!controller) {
        body = new ReadableStream<Uint8Array>(
          {
            start: (c) => {
              controller = c;
            },
            cancel: () => {
              cancelled = true;
            },
          },
          { highWaterMark: MAX_UNREAD_BYTES, size: (chunk) => chunk.byteLength },
        );
      }
      return controller!;
    };
    let headSeen = false;
    invoke({
      head: (h) => {
        if (headSeen) return;
        headSeen = true;
        const length = h.headers.find(([name]) => name === 'content-length')?.[1];
        declared = length !== undefined && /^\s*\d+\s*$/.test(length) ? Number(length) : undefined;
        open();
        settle({ kind: 'streamed', head: h, body: body! });
      },
      chunk: (bytes) => {
        if (cancelled) return;
        sent += bytes.byteLength;
        if (declared !== undefined && sent >= declared) return void (last = bytes);
        const queue = open();
        queue.enqueue(bytes);
        if ((queue.desiredSize ?? 0) >= 0) return;
        // The client has left MAX_UNREAD_BYTES unread: what follows is dropped, and so is it.
        cancelled = true;
        if (abort) abort();
        else queue.error(new Error(`the client left more than ${MAX_UNREAD_BYTES} bytes of the body unread`));
      },
    }).then(
      (invocation) => {
        // Not streamed, or streamed without a head (nothing was announced): answered whole.
        if (!headSeen) return settle({ kind: 'whole', invocation });
        if (cancelled) return;
        if (last) controller!.enqueue(last);
        controller!.close();
      },
      (err: unknown) => {
        if (!headSeen) return fail(err);
        if (cancelled) return;
        // The server then cancels the body itself; an errored body would also be logged by it.
        if (abort) abort();
        else controller!.error(err);
      },
    );
  });
}

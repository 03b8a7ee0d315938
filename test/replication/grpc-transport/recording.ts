// A PeerHandler that records what arrives (caller and message as decoded) and answers with
// canned items, for tests of the wire mapping without an engine.
import type { DigestRequest, DigestResponse, ItemData, PeerHandler, PeerMessage } from '../../../replication/engine/transport.js';

export interface RecordedCall {
  from: string;
  method: 'handle' | 'getItem' | 'getAllItems' | 'exchangeDigest';
  request: PeerMessage | DigestRequest | { keygroup: string; id?: string };
}

export interface Recording {
  handler: PeerHandler;
  calls: RecordedCall[];
  /** What getItem and getAllItems answer. */
  items: ItemData[];
  /** What exchangeDigest answers. */
  digest: DigestResponse;
  /** Calls for this item id never answer (to run into deadlines). */
  hangOn?: string;
}

export function recordingHandler(): Recording {
  const recording: Recording = {
    calls: [],
    items: [],
    digest: { differing: [], items: [] },
    handler: {
      handle: async (from, message) => {
        recording.calls.push({ from, method: 'handle', request: message });
        if ('id' in message && message.id === recording.hangOn) await new Promise(() => {});
      },
      getItem: async (from, request) => {
        recording.calls.push({ from, method: 'getItem', request });
        return recording.items;
      },
      getAllItems: async (from, request) => {
        recording.calls.push({ from, method: 'getAllItems', request });
        return recording.items;
      },
      exchangeDigest: async (from, request) => {
        recording.calls.push({ from, method: 'exchangeDigest', request });
        return recording.digest;
      },
    },
  };
  return recording;
}

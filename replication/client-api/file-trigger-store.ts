// FileTriggerStore: the node's triggers in one small JSON file, rewritten atomically on each change.
//
// Triggers change rarely (an operator's AddTrigger) and are few, so a whole-file rewrite is
// simpler and as safe as a database: the new content goes to a temporary file that is fsynced and
// renamed over the old one, so a crash leaves either the old or the new set, never a torn file.
// Memory is updated only after the file is, so a failed write changes nothing.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { writeFileAtomic } from '../support/atomic-file.js';
import { sortedRecords, type TriggerRecord, type TriggerStore } from './triggers.js';

const FORMAT = 1;

interface FileContent {
  format: typeof FORMAT;
  /** keygroup → triggers sorted by id; keygroups in name order so the file diffs cleanly. */
  triggers: Record<string, TriggerRecord[]>;
}

type Triggers = Map<string, Map<string, string>>;

export class FileTriggerStore implements TriggerStore {
  /** Mutations run one after another; each sees the previous one's result. */
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(
    readonly file: string,
    private data: Triggers,
  ) {}

  /** Loads `file` (absent = no triggers yet); its directory must exist. Rejects on a malformed file. */
  static async open(file: string): Promise<FileTriggerStore> {
    let text: string | undefined;
    try {
      text = await fs.readFile(file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    return new FileTriggerStore(file, text === undefined ? new Map() : parse(text, file));
  }

  async list(keygroup: string): Promise<TriggerRecord[]> {
    return sortedRecords(this.data.get(keygroup));
  }

  add(keygroup: string, trigger: TriggerRecord): Promise<void> {
    return this.mutate((data) => {
      const triggers = new Map(data.get(keygroup));
      triggers.set(trigger.id, trigger.host);
      data.set(keygroup, triggers);
      return undefined;
    });
  }

  remove(keygroup: string, id: string): Promise<boolean> {
    return this.mutate((data) => {
      const triggers = new Map(data.get(keygroup));
      if (!triggers.delete(id)) return false;
      if (triggers.size === 0) data.delete(keygroup);
      else data.set(keygroup, triggers);
      return true;
    });
  }

  removeKeygroup(keygroup: string): Promise<void> {
    return this.mutate((data) => {
      data.delete(keygroup);
      return undefined;
    });
  }

  /** Applies `change` to a copy; writes the file only if something changed, then swaps it in. */
  private mutate<T>(change: (data: Triggers) => T): Promise<T> {
    const run = this.queue.then(async () => {
      const next: Triggers = new Map(this.data);
      const result = change(next);
      if (!sameContent(this.data, next)) {
        await writeFileAtomic(this.file, serialise(next));
        this.data = next;
      }
      return result;
    });
    // A failed write must not block the writes queued behind it.
    this.queue = run.catch(() => {});
    return run;
  }
}

function serialise(data: Triggers): string {
  const content: FileContent = {
    format: FORMAT,
    triggers: Object.fromEntries([...data.keys()].sort().map((kg) => [kg, sortedRecords(data.get(kg))])),
  };
  return `${JSON.stringify(content, null, 2)}\n`;
}

function sameContent(a: Triggers, b: Triggers): boolean {
  return serialise(a) === serialise(b);
}

function parse(text: string, file: string): Triggers {
  const fail = (why: string) => new Error(`trigger file ${file} is malformed: ${why}`);
  let content: unknown;
  try {
    content = JSON.parse(text);
  } catch (error) {
    throw fail((error as Error).message);
  }
  const { format, triggers } = (content ?? {}) as Partial<FileContent>;
  if (format !== FORMAT) throw fail(`unknown format ${JSON.stringify(format)}`);
  if (typeof triggers !== 'object' || triggers === null || Array.isArray(triggers)) throw fail('"triggers" is not an object');
  const data: Triggers = new Map();
  for (const [keygroup, records] of Object.entries(triggers)) {
    if (!Array.isArray(records)) throw fail(`triggers of ${keygroup} are not a list`);
    const byId = new Map<string, string>();
    for (const record of records as unknown[]) {
      const { id, host } = (record ?? {}) as Partial<TriggerRecord>;
      if (typeof id !== 'string' || typeof host !== 'string') throw fail(`a trigger of ${keygroup} lacks a string id or host`);
      byId.set(id, host);
    }
    if (byId.size > 0) data.set(keygroup, byId);
  }
  return data;
}


// The NamingService methods common to every implementation: reads from the image, writes as plans.
// Subclasses decide only how a plan is applied (_write) and how the image is kept (_start/_close).
import {
  NamingError,
  type CreateKeygroupRequest,
  type KeygroupInfo,
  type Method,
  type MissedWrite,
  type NamingListener,
  type NamingService,
  type NodeRecord,
  type Role,
} from './port.js';
import {
  planAddReplica,
  planCreateKeygroup,
  planDeleteKeygroup,
  planMissed,
  planRegisterNode,
  planRemoveReplica,
  planRole,
  type Planner,
} from './plans.js';
import { checkMethod, checkSegment } from './schema.js';
import type { NamingState } from './state.js';

export abstract class NamingBase implements NamingService {
  private closed = false;

  protected abstract readonly state: NamingState;
  protected abstract readonly listeners: Set<NamingListener>;
  /** Applies the planner's plan atomically, re-planning as needed; throws the plan's error. */
  protected abstract _write(planner: Planner): Promise<void>;
  protected abstract _start(): Promise<void>;
  protected abstract _close(): Promise<void>;

  async start(): Promise<void> {
    this.checkOpen();
    await this._start();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.listeners.clear();
    await this._close();
  }

  /** Every FReD key in the local image and its raw value, sorted by key. */
  snapshot(): Record<string, string> {
    return this.state.snapshot();
  }

  registerNode(node: NodeRecord): Promise<void> {
    return this.write(() => planRegisterNode(node));
  }

  async getNode(id: string): Promise<NodeRecord | undefined> {
    this.checkOpen();
    return this.state.node(id);
  }

  async listNodes(): Promise<NodeRecord[]> {
    this.checkOpen();
    return this.state.listNodes();
  }

  createKeygroup(request: CreateKeygroupRequest): Promise<void> {
    return this.write(() => planCreateKeygroup(request));
  }

  deleteKeygroup(name: string): Promise<void> {
    return this.write(() => planDeleteKeygroup(name));
  }

  async getKeygroup(name: string): Promise<KeygroupInfo | undefined> {
    this.checkOpen();
    return this.state.keygroup(name);
  }

  async listKeygroups(): Promise<KeygroupInfo[]> {
    this.checkOpen();
    return this.state.listKeygroups();
  }

  addReplica(keygroup: string, node: string, expiry: number): Promise<void> {
    return this.write(() => planAddReplica(keygroup, node, expiry));
  }

  removeReplica(keygroup: string, node: string): Promise<void> {
    return this.write(() => planRemoveReplica(keygroup, node));
  }

  grantRole(user: string, keygroup: string, role: Role): Promise<void> {
    return this.write(() => planRole(user, keygroup, role, true));
  }

  revokeRole(user: string, keygroup: string, role: Role): Promise<void> {
    return this.write(() => planRole(user, keygroup, role, false));
  }

  async isAllowed(user: string, keygroup: string, method: Method): Promise<boolean> {
    this.checkOpen();
    checkMethod(method);
    // Grants outlive a keygroup's deletion in etcd (FReD leaves them), so existence is checked too.
    return this.state.exists(keygroup) && this.state.methods(user, keygroup).includes(method);
  }

  async getPermissions(user: string, keygroup: string): Promise<Method[]> {
    this.checkOpen();
    return this.state.exists(keygroup) ? this.state.methods(user, keygroup) : [];
  }

  reportMissed(write: MissedWrite): Promise<void> {
    return this.write(() => planMissed(write, true));
  }

  async listMissed(node: string): Promise<MissedWrite[]> {
    this.checkOpen();
    checkSegment(node, 'node id');
    return this.state.missed(node);
  }

  clearMissed(write: MissedWrite): Promise<void> {
    return this.write(() => planMissed(write, false));
  }

  subscribe(listener: NamingListener): () => void {
    this.checkOpen();
    this.listeners.add(listener);
    return () => void this.listeners.delete(listener);
  }

  /** Validates (the planner factory throws on bad arguments) before anything is written. */
  private async write(makePlanner: () => Planner): Promise<void> {
    this.checkOpen();
    await this._write(makePlanner());
  }

  protected checkOpen(): void {
    if (this.closed) throw new NamingError('ERR_NAMING_CLOSED', 'naming service is closed');
  }
}

// GrpcTriggerClient: notifies a FReD trigger endpoint (mcc.fred.trigger.TriggerNode) of a put or
// delete in a keygroup, with a deadline per call.
import type * as grpc from '@grpc/grpc-js';
import { UnaryCaller, type UnaryClientOptions } from './call.js';
import {
  triggerService,
  type WireDeleteItemTriggerRequest,
  type WireEmpty,
  type WirePutItemTriggerRequest,
} from './protos.js';

const PUT_ITEM_TRIGGER = triggerService.PutItemTrigger as grpc.MethodDefinition<WirePutItemTriggerRequest, WireEmpty>;
const DELETE_ITEM_TRIGGER = triggerService.DeleteItemTrigger as grpc.MethodDefinition<WireDeleteItemTriggerRequest, WireEmpty>;

/** Calls fail with GrpcCallError (status `code`, trigger `address`). */
export class GrpcTriggerClient {
  private readonly caller: UnaryCaller;

  constructor(
    readonly address: string,
    credentials: grpc.ChannelCredentials,
    options: UnaryClientOptions = {},
  ) {
    this.caller = new UnaryCaller(address, credentials, options);
  }

  async putItemTrigger({ keygroup, id, value }: { keygroup: string; id: string; value: string }): Promise<void> {
    await this.caller.call(PUT_ITEM_TRIGGER, { keygroup, id, val: value });
  }

  async deleteItemTrigger({ keygroup, id }: { keygroup: string; id: string }): Promise<void> {
    await this.caller.call(DELETE_ITEM_TRIGGER, { keygroup, id });
  }

  close(): void {
    this.caller.close();
  }
}

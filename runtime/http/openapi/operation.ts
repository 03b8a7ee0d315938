// The shape of an entry of the route table (operations.ts) and small helpers to write one.

import type { ErrorCode } from '../../errors.js';
import type { Schema } from './schemas.js';

export type Method = 'get' | 'put' | 'post' | 'delete' | 'patch';

export interface Parameter {
  name: string;
  in: 'query' | 'header';
  description: string;
  schema: Schema;
  required?: boolean;
  /** For repeated query parameters (env=A=1&env=B=2). */
  explode?: boolean;
}

export interface Answer {
  description: string;
  /** Media type → body schema; none for an empty body. */
  content?: Record<string, Schema>;
  headers?: Record<string, { description: string; schema: Schema }>;
  /** OpenAPI links: how a value of this answer feeds another operation. */
  links?: Record<string, { operationId: string; parameters: Record<string, string>; description: string }>;
}

export interface Operation {
  /** 'all' is Hono's app.all: documented as each of the methods in ALL_METHODS. */
  method: Method | 'all';
  /** As registered with Hono: /functions/:name, /fn/:name/* */
  path: string;
  operationId: string;
  tag: 'node' | 'functions' | 'invocation' | 'keygroups' | 'console';
  summary: string;
  description?: string;
  /** Path parameters described here rather than by their name in document.ts (the same name, another meaning). */
  pathParameters?: Record<string, { description: string; schema: Schema }>;
  /** Needs "Authorization: Bearer <admin token>" (adds ERR_UNAUTHORIZED). */
  admin?: boolean;
  parameters?: Parameter[];
  body?: { description: string; required: boolean; content: Record<string, Schema> };
  /** Answers other than coded errors, by status ('default': any other status). */
  answers: Record<string, Answer>;
  /** Coded errors the route can answer; grouped by their status in the document. */
  errors?: ErrorCode[];
}

export const ALL_METHODS: Method[] = ['get', 'post', 'put', 'patch', 'delete'];

export const json = (schema: Schema) => ({ 'application/json': schema });
export const ok = (description: string, schema: Schema): Answer => ({ description, content: json(schema) });
export const integer = (description: string, extra: Schema = {}): Parameter['schema'] => ({ type: 'integer', description, ...extra });
export const query = (name: string, description: string, schema: Schema, extra: Partial<Parameter> = {}): Parameter => ({ name, in: 'query', description, schema, ...extra });

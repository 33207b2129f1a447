import type { IncomingMessage } from 'node:http';
import type { ResourceDef } from '../api/resource.js';
import type { KubeObject } from '../api/types.js';

export function wantsTable(_req: IncomingMessage): boolean {
  return false;
}

export function toTable(_def: ResourceDef, items: KubeObject[], _rv: string, _now: Date): unknown {
  return items;
}

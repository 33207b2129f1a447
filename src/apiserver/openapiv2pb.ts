/**
 * The protobuf form of `/openapi/v2` (gnostic-models' `openapi.v2.Document`), which client-go's
 * discovery asks for (`Accept: application/com.github.proto-openapi.spec.v2@v1.0+protobuf`) and
 * which kubectl reads for `explain --output=plaintext-openapiv2` and its v2 fallbacks. Driven by
 * the message table generated from the descriptor in kubectl (`V2_MESSAGES_JSON` in
 * src/api/openapi.data.ts), with gnostic's mapping of JSON onto its messages: maps become
 * repeated `Named*` pairs, `x-` keys `vendor_extension` entries whose `Any` carries the value as
 * YAML (JSON is YAML), `type`/`items` wrap their values, and oneof-only messages pick their
 * field from the JSON (a `$ref`, the parameter's `in`, the security scheme's `type`).
 */

/** A message's fields: `[number, name, repeated (1), type, oneof index?]`; type `s` `b` `i` `d` or a message name. */
export type V2Messages = Readonly<Record<string, readonly (readonly [number, string, number, string, number?])[]>>;
type Field = V2Messages[string][number];

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
/** JSON key → gnostic field name: `operationId` → `operation_id`, `$ref` → `_ref`. */
const snake = (k: string): string => (k === '$ref' ? '_ref' : k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`));

function varint(n: number): Buffer {
  const out: number[] = [];
  let v = n;
  while (v > 0x7f) {
    out.push((v & 0x7f) | 0x80);
    v = Math.floor(v / 128);
  }
  out.push(v);
  return Buffer.from(out);
}
const tag = (num: number, wire: number): Buffer => varint(num * 8 + wire);
const bytes = (num: number, b: Buffer): Buffer => Buffer.concat([tag(num, 2), varint(b.length), b]);

/** Which field of a oneof-only message a JSON value goes to (gnostic's choice, by the value's shape). */
function oneofField(msg: string, v: unknown): string | undefined {
  const o = isObject(v) ? v : {};
  switch (msg) {
    case 'AdditionalPropertiesItem': return typeof v === 'boolean' ? 'boolean' : 'schema';
    case 'ParametersItem': return '$ref' in o ? 'json_reference' : 'parameter';
    case 'ResponseValue': return '$ref' in o ? 'json_reference' : 'response';
    case 'Parameter': return o.in === 'body' ? 'body_parameter' : 'non_body_parameter';
    case 'NonBodyParameter': return typeof o.in === 'string' ? `${snake(o.in)}_parameter_sub_schema` : undefined;
    case 'SchemaItem': return o.type === 'file' ? 'file_schema' : 'schema';
    case 'SecurityDefinitionsItem':
      if (o.type === 'apiKey') return 'api_key_security';
      if (o.type === 'basic') return 'basic_authentication_security';
      return { implicit: 'oauth2_implicit_security', password: 'oauth2_password_security', application: 'oauth2_application_security', accessCode: 'oauth2_access_code_security' }[String(o.flow)];
    default: return undefined;
  }
}

/**
 * Encodes OpenAPI v2 JSON documents as gnostic protobuf. `dropped` collects the paths of JSON
 * keys that have no place in the messages (a test keeps it empty for the served document).
 */
export class OpenApiV2Encoder {
  readonly dropped: string[] = [];
  private readonly byName = new Map<string, Map<string, Field>>();

  constructor(private readonly messages: V2Messages) {
    for (const [msg, fields] of Object.entries(messages)) this.byName.set(msg, new Map(fields.map((f) => [f[1], f])));
  }

  /** The `openapi.v2.Document` bytes of a swagger 2.0 JSON document. */
  document(doc: Record<string, unknown>): Buffer {
    return this.message('Document', doc, '');
  }

  private fields(msg: string): readonly Field[] {
    const f = this.messages[msg];
    if (!f) throw new Error(`openapi v2 protobuf: no message ${msg}`);
    return f;
  }

  private message(msg: string, v: unknown, path: string): Buffer {
    const fields = this.fields(msg);
    const index = this.byName.get(msg)!;
    const byName = (n: string): Field | undefined => index.get(n);
    if (msg === 'Any') return bytes(2, Buffer.from(JSON.stringify(v)));
    if (msg === 'TypeItem' || msg === 'StringArray') return this.field(byName('value')!, Array.isArray(v) ? v : [v], path);
    if (msg === 'ItemsItem') return this.field(byName('schema')!, Array.isArray(v) ? v : [v], path);
    if (fields.every((f) => f[4] !== undefined)) {
      const name = oneofField(msg, v);
      const f = name ? byName(name) : undefined;
      if (!f) {
        this.dropped.push(`${path} (${msg})`);
        return Buffer.alloc(0);
      }
      return this.field(f, v, path);
    }
    if (!isObject(v)) {
      this.dropped.push(`${path} (${msg}: not an object)`);
      return Buffer.alloc(0);
    }
    const map = fields.find((f) => f[2] && f[3].startsWith('Named') && f[1] !== 'vendor_extension');
    const vendor = byName('vendor_extension');
    const parts: Buffer[] = [];
    for (const [k, x] of Object.entries(v)) {
      const at = `${path}/${k}`;
      const f = byName(snake(k));
      if (k.startsWith('x-') && vendor) parts.push(bytes(vendor[0], this.named(vendor[3], k, x, at)));
      else if (f) parts.push(this.field(f, x, at));
      else if (map) parts.push(bytes(map[0], this.named(map[3], k, x, at)));
      else this.dropped.push(at);
    }
    return Buffer.concat(parts);
  }

  /** A `Named*` pair: `name` (1) and `value` (2). */
  private named(msg: string, key: string, value: unknown, path: string): Buffer {
    const valueField = this.fields(msg).find((f) => f[1] === 'value')!;
    return Buffer.concat([bytes(1, Buffer.from(key)), this.field(valueField, value, path)]);
  }

  private field(f: Field, v: unknown, path: string): Buffer {
    const [num, , repeated, type] = f;
    if (repeated && Array.isArray(v)) return Buffer.concat(v.map((x, i) => this.field([num, f[1], 0, type], x, `${path}/${i}`)));
    switch (type) {
      case 's': return bytes(num, Buffer.from(String(v)));
      case 'b': return Buffer.concat([tag(num, 0), varint(v ? 1 : 0)]);
      case 'i': return Buffer.concat([tag(num, 0), varint(Math.max(0, Math.trunc(Number(v))))]);
      case 'd': {
        const b = Buffer.alloc(8);
        b.writeDoubleLE(Number(v));
        return Buffer.concat([tag(num, 1), b]);
      }
      default: return bytes(num, this.message(type, v, path));
    }
  }
}

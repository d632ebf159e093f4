/**
 * Holds real answers to an OpenAPI 3.1 description: for the operation a request went to, its status
 * must be documented, its content type one documented for that status, its body valid against the
 * schema documented for that content type (JSON Schema draft 2020-12, formats checked, a string's
 * `contentSchema` checked on its JSON too), and the headers documented for it present when required
 * and valid when present. Server-Sent Events are checked event by event against the schema of one
 * event. Records which operations and statuses were checked, so that a test can require all of them.
 */
import assert from 'node:assert/strict';
import type { Ajv2020, AnySchema, ValidateFunction } from 'ajv/dist/2020.js';
import type { DataValidateFunction } from 'ajv/dist/types/index.js';
import { jsonSchemaValidator } from './json-schema.js';

type Json = Record<string, any>;

/** An answer as fetch received it, its body read as text. */
export interface RealAnswer {
  status: number;
  headers: Headers;
  text: string;
}

interface Operation {
  id: string;
  method: string;
  template: string;
  pattern: RegExp;
  responses: Record<string, Json>;
}

// The id the description is registered under: its own `$ref`s (`#/components/...`) resolve against it.
const BASE = 'urn:clusterd:openapi';
const pointer = (...parts: string[]) => parts.map((p) => p.replaceAll('~', '~0').replaceAll('/', '~1')).join('/');
const mediaTypeOf = (contentType: string | null) => (contentType ?? '').split(';')[0]!.trim().toLowerCase();

/** Splits a Server-Sent Events body into events as a parser reads them: `{ event, id, data, retry }`, comments dropped. */
export function parseEventStream(text: string): Array<Record<string, string>> {
  return text
    .split('\n\n')
    .map((block) => block.split('\n').filter((line) => line && !line.startsWith(':')))
    .filter((lines) => lines.length)
    .map((lines) =>
      Object.fromEntries(lines.map((line) => [line.slice(0, line.indexOf(':')), line.slice(line.indexOf(':') + 1).replace(/^ /, '')])),
    );
}

export class OpenApiContract {
  readonly #ajv: Ajv2020;
  readonly #operations: Operation[] = [];
  readonly #validators = new Map<string, ValidateFunction>();
  /** Statuses checked, by operationId. */
  readonly checked = new Map<string, Set<number>>();

  constructor(readonly description: Json) {
    this.#ajv = jsonSchemaValidator();
    // A string that holds JSON says so (contentMediaType) and what JSON (contentSchema), which draft
    // 2020-12 only annotates: here it is checked.
    this.#ajv.removeKeyword('contentSchema');
    this.#ajv.addKeyword({
      keyword: 'contentSchema',
      schemaType: ['object', 'boolean'],
      compile: (schema: AnySchema, parent: Json) => {
        const inner = this.#ajv.compile(schema);
        const check: DataValidateFunction = (data: unknown) => {
          if (typeof data !== 'string' || parent.contentMediaType !== 'application/json') return true;
          let value: unknown;
          try {
            value = JSON.parse(data);
          } catch {
            check.errors = [
              { keyword: 'contentSchema', message: 'is not JSON', params: {}, instancePath: '', schemaPath: '#/contentSchema' },
            ];
            return false;
          }
          const ok = inner(value) as boolean;
          check.errors = ok
            ? undefined
            : (inner.errors ?? []).map((e) => ({ ...e, message: `holds JSON whose ${e.instancePath || 'value'} ${e.message}` }));
          return ok;
        };
        return check;
      },
    });
    // The paths, and the schemas they refer to, as one schema document that refs point into.
    this.#ajv.addKeyword('paths');
    this.#ajv.addKeyword('components');
    this.#ajv.addSchema({ $id: BASE, paths: description.paths, components: description.components });
    for (const [template, item] of Object.entries<Json>(description.paths)) {
      const pattern = new RegExp(`^${template.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{[^}]+\}/g, '[^/]+')}$`);
      for (const [method, operation] of Object.entries<Json>(item)) {
        this.#operations.push({
          id: operation.operationId,
          method: method.toUpperCase(),
          template,
          pattern,
          responses: operation.responses,
        });
      }
    }
  }

  /** Every operationId of the description. */
  get operationIds(): string[] {
    return this.#operations.map((o) => o.id);
  }

  /** The operation that `method` on `path` (without its query) goes to. */
  operationOf(method: string, path: string): Operation {
    const found = this.#operations.find((o) => o.method === method && o.pattern.test(path));
    assert.ok(found, `the description has no operation for ${method} ${path}`);
    return found;
  }

  /** Asserts that `answer` to `method` on `url` is one the description allows; returns the operationId. */
  check(method: string, url: string, answer: RealAnswer): string {
    const path = new URL(url, 'http://x').pathname;
    const op = this.operationOf(method, path);
    const what = `${op.id} (${method} ${path}) answered ${answer.status}`;
    const documented = op.responses[String(answer.status)] ?? op.responses[`${String(answer.status)[0]}XX`] ?? op.responses.default;
    assert.ok(
      documented,
      `${what}, which its description does not list (it lists ${Object.keys(op.responses).join(', ')}): ${answer.text.slice(0, 500)}`,
    );
    const statusKey = op.responses[String(answer.status)] ? String(answer.status) : String(answer.status)[0] + 'XX';
    const problems = [...this.#headerProblems(documented, answer), ...this.#bodyProblems(op, statusKey, documented, answer)];
    if (problems.length) assert.fail(`${what}, which breaks its description:\n${problems.join('\n')}\nbody: ${answer.text.slice(0, 1000)}`);
    if (!this.checked.has(op.id)) this.checked.set(op.id, new Set());
    this.checked.get(op.id)!.add(answer.status);
    return op.id;
  }

  #headerProblems(documented: Json, answer: RealAnswer): string[] {
    const problems: string[] = [];
    for (const [name, header] of Object.entries<Json>(documented.headers ?? {})) {
      const value = answer.headers.get(name);
      if (value === null) {
        if (header.required) problems.push(`header ${name} is required and missing`);
        continue;
      }
      const schema = header.schema ?? {};
      const typed = schema.type === 'integer' || schema.type === 'number' ? Number(value) : value;
      const validate = this.#validator(JSON.stringify(schema), schema);
      if (!validate(typed)) problems.push(`header ${name}: ${JSON.stringify(value)} ${this.#ajv.errorsText(validate.errors)}`);
    }
    return problems;
  }

  #bodyProblems(op: Operation, statusKey: string, documented: Json, answer: RealAnswer): string[] {
    const content: Json = documented.content ?? {};
    if (!Object.keys(content).length) return answer.text === '' ? [] : [`a body, where the description documents none`];
    const mediaType = mediaTypeOf(answer.headers.get('content-type'));
    if (!content[mediaType])
      return [
        `content type ${JSON.stringify(answer.headers.get('content-type'))}, where the description documents ${Object.keys(content).join(', ')}`,
      ];
    const ref = `${BASE}#/${pointer('paths', op.template, op.method.toLowerCase(), 'responses', statusKey, 'content', mediaType, 'schema')}`;
    const validate = this.#validator(ref, { $ref: ref });
    if (mediaType === 'text/event-stream') {
      const events = parseEventStream(answer.text);
      return events.flatMap((event, i) =>
        validate(event) ? [] : [`event ${i} ${JSON.stringify(event).slice(0, 300)}: ${this.#ajv.errorsText(validate.errors)}`],
      );
    }
    // Text (the Prometheus exposition): the schema holds the text itself.
    if (mediaType === 'text/plain') return validate(answer.text) ? [] : [this.#ajv.errorsText(validate.errors, { separator: '\n' })];
    let body: unknown;
    try {
      body = JSON.parse(answer.text);
    } catch {
      return [`a body that is not JSON`];
    }
    return validate(body) ? [] : [this.#ajv.errorsText(validate.errors, { separator: '\n' })];
  }

  #validator(key: string, schema: AnySchema): ValidateFunction {
    let validate = this.#validators.get(key);
    if (!validate) this.#validators.set(key, (validate = this.#ajv.compile(schema)));
    return validate;
  }

  /** Asserts that every operation of the description was checked, and with each success status it documents. */
  assertEverythingChecked(): void {
    const never = this.#operations.filter((o) => !this.checked.has(o.id)).map((o) => `${o.id} (${o.method} ${o.template})`);
    if (never.length) assert.fail(`operations of the description never called:\n${never.join('\n')}`);
    const successes = this.#operations.flatMap((o) =>
      Object.keys(o.responses)
        .filter((s) => s.startsWith('2') && !this.checked.get(o.id)!.has(Number(s)))
        .map((s) => `${o.id} ${s}`),
    );
    if (successes.length) assert.fail(`success statuses of the description never answered:\n${successes.join('\n')}`);
  }
}

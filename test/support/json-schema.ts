/**
 * A JSON Schema validator (draft 2020-12, as OpenAPI 3.1 reads it), with the formats (`date-time`,
 * `uuid`, ...) checked rather than ignored. Strict about the schemas themselves (a keyword it does
 * not know is an error, not something silently skipped), but a schema need not repeat `type` beside
 * the keywords of its type, nor define the properties a part of it requires: the rules across fields
 * (src/lifecycle/object-rules.ts) are such parts.
 */
import { Ajv2020, type Options } from 'ajv/dist/2020.js';
import formats from 'ajv-formats';

export function jsonSchemaValidator(options: Options = {}): Ajv2020 {
  const ajv = new Ajv2020({
    allErrors: true,
    strictSchema: true,
    strictNumbers: true,
    strictTuples: true,
    strictTypes: false,
    strictRequired: false,
    ...options,
  });
  // ajv-formats is CommonJS: its default export is the module, whose `default` is the plugin.
  formats.default(ajv);
  return ajv;
}

import assert from 'node:assert/strict';
import { describe, it } from 'vitest';
import { ForbiddenError, UnauthenticatedError } from '../../src/errors.js';
import { problemHeaders, toProblem } from '../../server/problem.js';

describe('problems and their headers', () => {
  it('challenges a 401 per RFC 6750: no error code without a token, invalid_token for a refused one', () => {
    assert.deepEqual(problemHeaders(new UnauthenticatedError('missing')), { 'WWW-Authenticate': 'Bearer realm="clusterd"' });
    assert.match(
      problemHeaders(new UnauthenticatedError('unknown', true))['WWW-Authenticate']!,
      /^Bearer realm="clusterd", error="invalid_token"/,
    );
    assert.deepEqual(problemHeaders(new ForbiddenError('no')), {});
    assert.deepEqual(problemHeaders(new Error('boom')), {});
  });

  it("maps the router's percent-decoding failure to a 400 naming the path, and other URIErrors to a 500", () => {
    const decoding = Object.assign(new URIError("Failed to decode param '%ff'"), { status: 400 });
    assert.deepEqual(toProblem(decoding).errors, [{ field: 'path', rule: 'encoding', message: 'is not valid percent-encoded UTF-8' }]);
    assert.equal(toProblem(decoding).status, 400);
    assert.equal(toProblem(new URIError('ours')).status, 500);
  });

  it("names the body and the body parser's own rule for its other refusals", () => {
    const problem = toProblem(
      Object.assign(new Error('unsupported content encoding "xyz"'), { status: 415, expose: true, type: 'encoding.unsupported' }),
    );
    assert.equal(problem.status, 415);
    assert.deepEqual(problem.errors, [{ field: '(body)', rule: 'encoding_unsupported', message: 'unsupported content encoding "xyz"' }]);
  });
});

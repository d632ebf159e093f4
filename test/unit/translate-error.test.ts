import assert from 'node:assert/strict';
import { describe, it } from 'vitest';
import { translateError } from '../../src/engine/translate-error.js';

describe('translateError, on messages captured from CLI 3.259', () => {
  const translate = (message: string, diagnostics: Array<{ urn?: string; message: string }> = [], name = 'CommandError') =>
    translateError(Object.assign(new Error(`code: 255\n stdout: \n stderr: ${message}`), { name }), {
      diagnostics,
      redact: ['hunter2-secret'],
    });

  it('names the provider plugin that could not be downloaded, and how to install it', () => {
    const diag =
      "Could not automatically download and install resource plugin 'pulumi-resource-random' at version v4.16.0, install the plugin using `pulumi plugin install resource random v4.16.0`: error downloading provider random to file: failed to download plugin: random-4.16.0: failed all 5 attempts\n";
    assert.deepEqual(
      translate('error: update failed', [{ urn: 'urn:pulumi:s::clusterd::pulumi:providers:random::default_4_16_0', message: diag }]),
      {
        code: 'provider-plugin-missing',
        title: 'The Pulumi provider plugin "random" is not installed',
        detail:
          "Install it on the workers with the service's PULUMI_HOME (pulumi plugin install resource random v4.16.0), or allow them to download it.",
      },
    );
    const latest =
      'could not find latest version for provider aws: Get "https://api.github.com/repos/pulumi/pulumi-aws/releases/latest": dial tcp: lookup api.github.com: no such host\n';
    assert.equal(translate('error: update failed', [{ message: latest }]).title, 'The Pulumi provider plugin "aws" is not installed');
  });

  it('points at PATH and NODE_PATH when the dynamic provider plugin cannot start', () => {
    const e = translate('error: could not read plugin [/repo/node_modules/@pulumi/pulumi/pulumi-resource-pulumi-nodejs]: EOF');
    assert.equal(e.code, 'provider-plugin-missing');
    assert.equal(e.title, 'The Pulumi provider plugin "pulumi-nodejs" is not installed');
    assert.match(e.detail, /NODE_PATH/);
  });

  it('recognises missing cloud credentials', () => {
    const diag =
      'error: configuring Terraform AWS Provider: no valid credential sources for Terraform AWS Provider found.\n\nPlease see https://registry.terraform.io/providers/hashicorp/aws';
    const e = translate('error: update failed', [{ urn: 'urn:pulumi:s::clusterd::pulumi:providers:aws::default', message: diag }]);
    assert.equal(e.code, 'cloud-credentials-missing');
    assert.match(e.detail, /^configuring Terraform AWS Provider: no valid credential sources/);
  });

  it('keeps a program error to its first line, without colours or secrets', () => {
    const e = translate('error: update failed', [
      { message: '\u001b[31mUnhandled exception: Error: cannot reach hunter2-secret\n    at Object.init (/x.ts:1:1)\n' },
    ]);
    assert.deepEqual(e, {
      code: 'resource-error',
      title: 'The program failed',
      detail: 'Unhandled exception: Error: cannot reach [secret]',
    });
  });

  it('maps a missing stack and cuts long details', () => {
    assert.equal(translate("error: no stack named 'gone' found", [], 'StackNotFoundError').code, 'stack-not-found');
    assert.ok(translate('error: x', [{ urn: 'urn:pulumi:s::p::t::n', message: 'y'.repeat(2000) }]).detail.length <= 500);
  });
});

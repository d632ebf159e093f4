import type { EngineEvent } from '@pulumi/pulumi/automation/index.js';
import { describe, expect, it } from 'vitest';
import { RootStackOutputs } from '../../src/engine/root-stack-outputs.js';

/** A secret as the engine's events serialize it. */
const SECRET = { '4dabf18193072939515e22adb298388d': '1b47061264138c4ac30d75fd1eb44270', ciphertext: '[secret]' };

const outputsEvent = (type: string, outputs: Record<string, unknown>) =>
  ({
    sequence: 9,
    timestamp: 0,
    resOutputsEvent: { metadata: { op: 'same', urn: `urn:pulumi:s::p::${type}::x`, type, new: { outputs } } },
  }) as unknown as EngineEvent;

describe('RootStackOutputs', () => {
  it('reads the root stack outputs event, masking secrets at every depth as `pulumi stack output --json` does', () => {
    const outputs = new RootStackOutputs();
    outputs.observe(
      outputsEvent('pulumi:pulumi:Stack', { a: 1, n: null, s: SECRET, nested: { b: [1, SECRET], c: SECRET }, list: [{ k: SECRET }] }),
    );
    expect(outputs.get()).toEqual({
      a: { value: 1, secret: false },
      n: { value: null, secret: false },
      s: { value: '[secret]', secret: true },
      nested: { value: { b: [1, '[secret]'], c: '[secret]' }, secret: false },
      list: { value: [{ k: '[secret]' }], secret: false },
    });
  });

  it('has nothing before a root stack outputs event, ignores other resources, and keeps the last one seen', () => {
    const outputs = new RootStackOutputs();
    outputs.observe(outputsEvent('local:files:Pool', { size: 2 }));
    outputs.observe({ sequence: 1, timestamp: 0, summaryEvent: {} } as unknown as EngineEvent);
    expect(outputs.get()).toBeUndefined();
    outputs.observe(outputsEvent('pulumi:pulumi:Stack', { v: 1 }));
    outputs.observe(outputsEvent('pulumi:pulumi:Stack', { v: 2 }));
    expect(outputs.get()).toEqual({ v: { value: 2, secret: false } });
  });
});

import type { EngineEvent, OutputMap } from '@pulumi/pulumi/automation/index.js';
import { isSecretValue, maskSecretValues } from './secret-values.js';

/**
 * The stack's outputs as the run's own events report them: the root stack resource's outputs event
 * carries every output, its secrets as ciphertext markers. Reading them there spares the `pulumi stack
 * output` process the SDK starts after every `up` (a whole CLI that opens the state and derives the
 * passphrase's key: a third of a second of CPU). Masked as that command masks them: a secret, at any
 * depth, becomes `[secret]`; a top-level one is marked `secret`.
 */
export class RootStackOutputs {
  #outputs: OutputMap | undefined;

  observe(event: EngineEvent): void {
    const metadata = event.resOutputsEvent?.metadata;
    if (metadata?.type !== 'pulumi:pulumi:Stack' || !metadata.new) return;
    const outputs = (metadata.new.outputs ?? {}) as Record<string, unknown>;
    this.#outputs = Object.fromEntries(
      Object.entries(outputs).map(([key, value]) => [key, { value: maskSecretValues(value), secret: isSecretValue(value) }]),
    );
  }

  /** The outputs of the last root stack outputs event seen, if any was. */
  get(): OutputMap | undefined {
    return this.#outputs;
  }
}

import type { EngineEvent, OutputMap } from '@pulumi/pulumi/automation/index.js';

/** The signature Pulumi's serialized values carry to mark a secret (`4dabf18193072939515e22adb298388d`). */
const SECRET_SIG_KEY = '4dabf18193072939515e22adb298388d';
const SECRET_SIG = '1b47061264138c4ac30d75fd1eb44270';
/** What `pulumi stack output --json` prints in place of a secret value, at any depth. */
export const CLI_SECRET_MASK = '[secret]';

/**
 * The stack's outputs as the run's own events report them: the root stack resource's outputs event
 * carries every output, its secrets as ciphertext markers. Reading them there spares the `pulumi stack
 * output` process the SDK starts after every `up` (a whole CLI that opens the state and derives the
 * passphrase's key: a third of a second of CPU). Masked as that command masks them: a secret, at any
 * depth, becomes {@link CLI_SECRET_MASK}; a top-level one is marked `secret`.
 */
export class RootStackOutputs {
  #outputs: OutputMap | undefined;

  observe(event: EngineEvent): void {
    const metadata = event.resOutputsEvent?.metadata;
    if (metadata?.type !== 'pulumi:pulumi:Stack' || !metadata.new) return;
    const outputs = (metadata.new.outputs ?? {}) as Record<string, unknown>;
    this.#outputs = Object.fromEntries(
      Object.entries(outputs).map(([key, value]) => [key, { value: masked(value), secret: isSecret(value) }]),
    );
  }

  /** The outputs of the last root stack outputs event seen, if any was. */
  get(): OutputMap | undefined {
    return this.#outputs;
  }
}

function isSecret(value: unknown): boolean {
  return typeof value === 'object' && value !== null && (value as Record<string, unknown>)[SECRET_SIG_KEY] === SECRET_SIG;
}

function masked(value: unknown): unknown {
  if (isSecret(value)) return CLI_SECRET_MASK;
  if (Array.isArray(value)) return value.map(masked);
  if (typeof value === 'object' && value !== null) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, masked(v)]));
  return value;
}

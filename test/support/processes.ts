import { readdirSync, readFileSync } from 'node:fs';

/**
 * Processes of a job run by a service under `dataDir` (its child process, the Pulumi CLI and the
 * provider plugins): their environment names the data directory and their command line is the
 * job's child entry or a Pulumi binary. The service's own processes are not among them.
 */
export function jobProcessesOf(dataDir: string): Array<{ pid: number; cmd: string }> {
  const found: Array<{ pid: number; cmd: string }> = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const cmd = readFileSync(`/proc/${entry}/cmdline`, 'latin1').split('\0').join(' ');
      if (!/child-entry|dynamic-provider|pulumi-resource|\/pulumi |\/pulumi$|pulumi-language/.test(cmd)) continue;
      if (!readFileSync(`/proc/${entry}/environ`, 'latin1').includes(dataDir)) continue;
      found.push({ pid: Number(entry), cmd: cmd.slice(0, 160) });
    } catch {
      // Gone meanwhile.
    }
  }
  return found;
}

/** An operation's `status` events, read from its finished event stream. */
export function statusEvents(sse: string): Array<Record<string, unknown>> {
  return sse
    .split('\n\n')
    .filter((block) => /^event: status$/m.test(block))
    .map((block) => JSON.parse(/^data: (.*)$/m.exec(block)![1]!).data as Record<string, unknown>);
}

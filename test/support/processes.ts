import { readdir, readFile } from 'node:fs/promises';

/** Pids of the live children of `parent` whose command name is `name` (Linux /proc). */
export async function childrenNamed(parent: number, name: string): Promise<number[]> {
  const found: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => null);
    // `pid (comm) state ppid ...`; comm may itself hold spaces or parentheses.
    const m = stat && /^(\d+) \((.*)\) \S+ (\d+) /.exec(stat);
    if (m && m[2] === name && Number(m[3]) === parent) found.push(Number(m[1]));
  }
  return found;
}

/**
 * Node's flags for the job's own Node processes: its child (queue/child-runner.ts) and the
 * dynamic-provider plugin (dynamic-provider-launcher.ts). Both spend their run waiting on the CLI
 * or on the provider's calls, and one of each runs per operation: their memory, not their speed,
 * decides how many operations a worker holds at once.
 * - A young generation of 4 MB instead of V8's 16 MB, as the service runs (scripts/start.sh): their
 *   allocations are short-lived messages, and most of an idle spare's reserve was the default's.
 * - Neither of V8's optimizing compilers (TurboFan, Maglev): with its modules loaded, the job child
 *   held 93 MiB with them and 83 MiB without (measured, Node 24), and it runs no hot loop they would
 *   pay off in. Not `--lite-mode`, which saves more but turns WebAssembly off, and with it Node's
 *   loader of TypeScript blueprints.
 */
export const JOB_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=4', '--no-opt', '--no-maglev'];

/**
 * Operator blueprint modules may be written in TypeScript. The compiled service imports them through
 * tsx when tsx is installed (a dev dependency here, optional in a deployment); code run from its
 * TypeScript sources (the tests) already runs under a loader that compiles TypeScript.
 */
import { fileURLToPath } from 'node:url';

const TYPESCRIPT = /\.[cm]?tsx?$/;

/** True when this process runs the TypeScript sources, not the compiled JavaScript in dist/. */
export const RUNNING_FROM_SOURCES = TYPESCRIPT.test(fileURLToPath(import.meta.url));

/** Node options that let a child process run a sibling of this code's own kind (source or compiled). */
export function sourceLoaderArgs(): string[] {
  // Absolute, so the child finds tsx whatever its working directory.
  return RUNNING_FROM_SOURCES ? ['--import', import.meta.resolve('tsx')] : [];
}

let registered = false;

/** Makes this process able to import the TypeScript modules among `paths`; throws naming one when tsx is missing. */
export async function enableTypeScriptModules(paths: string[]): Promise<void> {
  const typescript = paths.find((p) => TYPESCRIPT.test(p));
  if (!typescript || RUNNING_FROM_SOURCES || registered) return;
  let api: typeof import('tsx/esm/api');
  try {
    api = await import('tsx/esm/api');
  } catch {
    throw new Error(
      `blueprint module ${typescript}: is TypeScript, and tsx is not installed to load it: install tsx (npm install tsx) or compile the module to JavaScript`,
    );
  }
  api.register();
  registered = true;
}

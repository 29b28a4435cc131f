// Where cordon's own files are: the executable that runs, the symlinks on the
// path it was started by, and the npm package the launcher came from. cordon
// runs outside any sandbox with all of the user's rights, so a command that
// can write one of these can replace the cordon that the next run starts
// (`npx cordon -w . -- npm test` with cordon in ./node_modules). Planning
// checks them against the write roots (plan/sandbox.ts).
import { readFileSync, realpathSync } from "node:fs";
import { isAbsolute, join, resolve } from "node:path";
import { walkPath } from "../policy/paths.ts";

/**
 * Set by the npm launcher (bin/cordon.cjs) to its package directory. It is
 * cordon's own channel: the command's environment never gets it.
 */
export const NPM_PACKAGE_VARIABLE = "CORDON_NPM_PACKAGE";

export interface CordonFile {
  /** What it is, with its path, for messages: "cordon's executable /opt/cordon/cordon", ... */
  name: string;
  path: string;
  /** A directory holds cordon: a write root inside it reaches cordon too. */
  directory: boolean;
}

/** True inside the `bun build --compile` binary, false under `bun src/main.ts`. */
export const isCompiled = import.meta.path.startsWith("/$bunfs/");

/** argv[0] as the kernel received it. */
function kernelArgv0(): string | undefined {
  let cmdline: Buffer;
  try {
    cmdline = readFileSync("/proc/self/cmdline");
  } catch {
    return undefined;
  }
  const end = cmdline.indexOf(0);
  return cmdline.subarray(0, end < 0 ? cmdline.length : end).toString();
}

/**
 * The path cordon was started by: argv[0] as the kernel received it, or, for
 * a bare name, the first match on PATH, the one a shell runs (a symlink such
 * as ~/bin/cordon lies on that way too).
 */
function invokedPath(path: string | undefined = process.env.PATH): string | undefined {
  const argv0 = kernelArgv0();
  if (argv0 === undefined) return undefined;
  if (argv0.includes("/")) return argv0;
  return Bun.which(argv0, { PATH: path ?? "" }) ?? undefined;
}

/**
 * For a bare name, the PATH directories searched before the one cordon was
 * found in: a `cordon` dropped into one of them is what the next bare
 * `cordon` runs, outside any sandbox.
 */
function earlierPathEntries(env: Record<string, string | undefined>): CordonFile[] {
  if (!isCompiled) return [];
  const argv0 = kernelArgv0();
  if (argv0 === undefined || argv0.includes("/")) return [];
  const found = Bun.which(argv0, { PATH: env.PATH ?? "" });
  if (!found) return [];
  const entries: CordonFile[] = [];
  for (const entry of (env.PATH ?? "").split(":")) {
    const dir = resolve(entry === "" ? "." : entry);
    if (found === join(dir, argv0)) break;
    entries.push({ name: `the PATH directory ${dir} (searched before cordon's)`, path: dir, directory: false });
  }
  return entries;
}

/**
 * `path` (canonical) as `what`, and each symlink met on the way to it (`via`
 * says which way), any of which could be retargeted.
 */
function withLinks(what: string, via: string, path: string, directory: boolean): CordonFile[] {
  const walk = walkPath(resolve(path));
  const links = walk.links.map((link) => ({ name: `the symlink ${link} (${via})`, path: link, directory }));
  return [{ name: `${what} ${walk.canonical}`, path: walk.canonical, directory }, ...links];
}

/**
 * Where cordon's executable is. Replaced on disk while this run started,
 * /proc/self/exe names the old file "PATH (deleted)": the place is what the
 * next run starts from, so that is what counts.
 */
function executablePath(): string {
  const path = process.execPath.replace(/ \(deleted\)$/, "");
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
}

function executableFile(path: string): CordonFile {
  return { name: `cordon's executable ${path}`, path, directory: false };
}

/**
 * cordon's files on this host. Under `bun src/main.ts` the code is the
 * source tree, not the bun executable.
 */
export function cordonFiles(
  env: Record<string, string | undefined> = process.env,
  argv0: string | undefined = isCompiled ? invokedPath() : undefined,
): CordonFile[] {
  const files = isCompiled
    ? [executableFile(executablePath())]
    : withLinks("cordon's source", "on the way to cordon's source", resolve(import.meta.dir, "../.."), true);
  if (argv0 !== undefined) {
    // The file it names is the executable itself: only the symlinks on the way add anything.
    files.push(...withLinks("cordon", "on the path cordon was started by", argv0, false).slice(1));
  }
  files.push(...earlierPathEntries(env));
  const npmPackage = env[NPM_PACKAGE_VARIABLE];
  if (npmPackage && isAbsolute(npmPackage)) {
    files.push(...withLinks("cordon's npm package", "on the way to cordon's npm package", npmPackage, true));
  }
  return files;
}

// A small host tree for file-system attacks:
//
//   base/            outside every write root
//     prot/secret.txt  a read-only file ("original")
//     prot/dir/keep.txt
//     root/          the write root given to cordon (-w)
//
// root and prot share one parent, so rename(2) and link(2) between them are
// same-filesystem operations that only the sandbox can refuse.
import { mkdirSync, readdirSync, readFileSync, lstatSync, readlinkSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { hostDir, removeDir } from "./attacks.ts";

export interface FsFixture {
  base: string;
  root: string;
  prot: string;
  secret: string;
  dir: string;
  cleanup(): void;
}

export const SECRET_CONTENT = "original\n";

export function fsFixture(): FsFixture {
  const base = hostDir("cordon-fs-");
  const root = join(base, "root");
  const prot = join(base, "prot");
  const dir = join(prot, "dir");
  mkdirSync(root);
  mkdirSync(dir, { recursive: true });
  const secret = join(prot, "secret.txt");
  writeFileSync(secret, SECRET_CONTENT);
  writeFileSync(join(dir, "keep.txt"), "keep\n");
  return { base, root, prot, secret, dir, cleanup: () => removeDir(base) };
}

/**
 * Everything outside the write root, as sorted "path kind content" lines:
 * equal snapshots before and after an attack mean it left no effect there.
 * The write root itself is listed (so renaming it away shows) but not its content;
 * link counts show a hard link made to a protected file from anywhere.
 */
export function protectedSnapshot(fixture: FsFixture): string[] {
  const lines: string[] = [];
  const walk = (path: string) => {
    const rel = relative(fixture.base, path) || ".";
    const stat = lstatSync(path);
    if (stat.isSymbolicLink()) lines.push(`${rel} link ${readlinkSync(path)}`);
    else if (stat.isDirectory()) {
      lines.push(`${rel} dir ino=${stat.ino}`);
      if (path === fixture.root) return;
      for (const name of readdirSync(path).sort()) walk(join(path, name));
    } else
      lines.push(`${rel} file ino=${stat.ino} nlink=${stat.nlink} ${JSON.stringify(readFileSync(path, "latin1"))}`);
  };
  walk(fixture.base);
  return lines;
}

// Atomic file and directory writes (checkpoints, datasets, run outputs): everything is written under a temporary
// name next to the target (same filesystem, so rename is atomic) and only renamed into place once complete and fsynced.
import * as fs from "node:fs";
import * as path from "node:path";
import { fail } from "./errors.js";

let counter = 0;

/**
 * A unique temporary path next to `target` (same directory, so a rename onto `target` stays on one filesystem).
 * @example tempSibling("ckpt/step-10") // "ckpt/.step-10.tmp-4242-1"
 */
export function tempSibling(target: string, tag = "tmp"): string {
  const abs = path.resolve(target);
  // pid + counter + clock make the name unique without touching the seeded random streams.
  return path.join(
    path.dirname(abs),
    `.${path.basename(abs)}.${tag}-${process.pid}-${++counter}-${Date.now().toString(36)}`,
  );
}

function fsyncPath(p: string, flags = "r"): void {
  let fd: number | undefined;
  try {
    fd = fs.openSync(p, flags);
    fs.fsyncSync(fd);
  } catch {
    // Directory fsync is not supported everywhere; the rename is still atomic.
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

/**
 * Write a file atomically: the content (or whatever `write(fd)` writes) goes to a temp sibling, is fsynced, then
 * renamed over `file`, so readers never see half a file and a crash leaves the previous file intact.
 * @example writeFileAtomic("out.txt", "hello"); writeFileAtomic("out.bin", (fd) => fs.writeSync(fd, bytes))
 */
export function writeFileAtomic(file: string, content: string | Uint8Array | ((fd: number) => void)): void {
  const dir = path.dirname(path.resolve(file));
  try {
    fs.mkdirSync(dir, { recursive: true });
  } catch (e) {
    fail(
      "io",
      `writeFileAtomic: cannot create directory ${dir} (${(e as NodeJS.ErrnoException).code}). Check permissions.`,
      { path: [dir], cause: e },
    );
  }
  const tmp = tempSibling(file);
  let fd: number | undefined;
  try {
    fd = fs.openSync(tmp, "w");
    if (typeof content === "function") content(fd);
    else fs.writeSync(fd, typeof content === "string" ? Buffer.from(content, "utf8") : content);
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    fd = undefined;
    fs.renameSync(tmp, file);
  } catch (e) {
    if (fd !== undefined) fs.closeSync(fd);
    fs.rmSync(tmp, { force: true });
    if ((e as { name?: string }).name === "CellrlError") throw e;
    fail(
      "io",
      `writeFileAtomic: writing ${file} failed (${(e as Error).message}). ` +
        "The previous file, if any, is unchanged; check that the directory is writable.",
      { path: [file], cause: e },
    );
  }
  fsyncPath(dir);
}

/**
 * Write JSON (2-space indented, trailing newline, as transformers writes config.json) atomically.
 * @example writeJsonAtomic("ckpt/config.json", config)
 */
export function writeJsonAtomic(file: string, value: unknown): void {
  const text = JSON.stringify(value, null, 2) + "\n";
  writeFileAtomic(file, (fd) => fs.writeSync(fd, text));
}

/**
 * Move a fully written temp directory onto `target`. An existing `target` is first renamed aside and deleted only
 * after the new one is in place, so at every moment a complete checkpoint exists on disk.
 * @example replaceDirAtomic(".ckpt.tmp-1", "ckpt")
 */
export function replaceDirAtomic(tmpDir: string, target: string): void {
  fsyncPath(tmpDir);
  const old = fs.existsSync(target) ? tempSibling(target, "old") : null;
  try {
    if (old) fs.renameSync(target, old);
    fs.renameSync(tmpDir, target);
  } catch (e) {
    // Put the old checkpoint back if the second rename failed.
    if (old && !fs.existsSync(target) && fs.existsSync(old)) fs.renameSync(old, target);
    fail(
      "io",
      `model.saveCheckpoint: cannot move the new checkpoint into ${target} (${(e as Error).message}). ` +
        "The previous checkpoint is unchanged.",
      { path: [target], cause: e },
    );
  }
  fsyncPath(path.dirname(path.resolve(target)));
  if (old) fs.rmSync(old, { recursive: true, force: true });
}

// Compile lib/core/kernels/wasm/kernels.as (AssemblyScript) into the two kernel binaries and copy them next to the
// compiled library (dist/core/kernels/wasm/). Run by `npm run build:kernels`, which `npm run build` runs first.
//
// Why both "build" and "committed": the .wasm files are also committed in lib/core/kernels/wasm/ so that tsx-run
// sources (tests, notebooks from a checkout) work without a build, and so a production install without
// devDependencies still has them. When assemblyscript is installed (any `npm ci`), this script rebuilds them from
// source, so the committed binaries can never silently drift from kernels.as (a rebuilt file that differs shows up
// in `git status`). asc output is deterministic for a pinned assemblyscript version.
import { execFileSync } from "node:child_process";
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, "..", "..", "..");
const src = join(here, "wasm", "kernels.as");
const outDir = join(here, "wasm");
const distDir = join(root, "dist", "core", "kernels", "wasm");
const asc = join(root, "node_modules", "assemblyscript", "bin", "asc.js");

const variants = [
  { file: "kernels-simd.wasm", features: ["simd"] },
  { file: "kernels-fma.wasm", features: ["simd", "relaxed-simd"] },
];

/** A wasm binary's data section id is 11; ours must have none (it would overwrite the tfjs heap on instantiation). */
function sectionIds(bytes) {
  const ids = [];
  let p = 8;
  while (p < bytes.length) {
    const id = bytes[p++];
    let size = 0,
      shift = 0,
      b;
    do {
      b = bytes[p++];
      size |= (b & 0x7f) << shift;
      shift += 7;
    } while (b & 0x80);
    ids.push(id);
    p += size;
  }
  return ids;
}

if (existsSync(asc)) {
  // asc only reads .ts entry files; compile a temp copy so the library's tsc never type-checks AssemblyScript.
  const tmp = mkdtempSync(join(tmpdir(), "cellrl-asc-"));
  try {
    writeFileSync(join(tmp, "matmul.ts"), readFileSync(src));
    for (const v of variants) {
      const out = join(tmp, v.file);
      const args = [
        asc,
        join(tmp, "matmul.ts"),
        "-O3",
        "--runtime",
        "stub",
        "--importMemory",
        "--noExportMemory",
        "--noAssert",
        "--initialMemory",
        "0",
        ...v.features.flatMap((f) => ["--enable", f]),
        "-o",
        out,
      ];
      execFileSync(process.execPath, args, { stdio: "inherit" });
      const bytes = readFileSync(out);
      if (sectionIds(bytes).includes(11))
        throw new Error(
          `build-wasm: ${v.file} has a data segment (it would overwrite the tfjs heap). ` +
            "Remove static data from kernels.as.",
        );
      const dest = join(outDir, v.file);
      const same = existsSync(dest) && Buffer.compare(readFileSync(dest), bytes) === 0;
      if (!same) {
        writeFileSync(dest + ".tmp", bytes);
        renameSync(dest + ".tmp", dest);
      }
      console.log(`build-wasm: ${v.file} ${bytes.length} bytes${same ? " (unchanged)" : " (rebuilt)"}`);
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
} else {
  console.log("build-wasm: assemblyscript not installed, using the committed .wasm files");
}

mkdirSync(distDir, { recursive: true });
for (const v of variants) copyFileSync(join(outDir, v.file), join(distDir, v.file));

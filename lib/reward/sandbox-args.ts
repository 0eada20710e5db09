// The bubblewrap command line for one sandboxed run: namespaces, the read-only system view, private tmpfs dirs and a
// clean environment. Pure (no spawning) so tests can read exactly what the sandbox is made of.
import * as fs from "node:fs";
import * as path from "node:path";

/**
 * How model code is isolated, strongest first. "bwrap" = bubblewrap with a user namespace (unprivileged, the normal
 * case); "bwrap-root" = bubblewrap run as root without a user namespace (for hosts where user namespaces are off),
 * the runner then drops to an unprivileged uid; "none" = no isolation at all (explicit opt-out only).
 */
export type IsolationLevel = "bwrap" | "bwrap-root" | "none";

/** What the sandbox needs to know to build its command line. */
export interface SandboxArgsInput {
  level: Exclude<IsolationLevel, "none">;
  /** Absolute path of the Python interpreter (inside the read-only view). */
  python: string;
  /** Size of the private /tmp and /dev/shm tmpfs, bytes. */
  tmpBytes: number;
  /** Extra host paths made visible read-only at the same place (e.g. a venv outside /usr). */
  readOnlyPaths: string[];
  /** The runner source passed with `python -c`. */
  runnerSource: string;
  /** Arguments after the runner source (sys.argv[1:] of the runner). */
  runnerArgs: string[];
  /** Options this bwrap knows (older releases lack them). Defaults to all known. */
  features?: BwrapFeatures;
  /** File descriptor bwrap reads the seccomp filter from (see sandbox-seccomp.ts), or none. */
  seccompFd?: number;
}

/** Optional bwrap flags: --disable-userns (0.8.0) and --size for tmpfs (0.7.0). */
export interface BwrapFeatures {
  disableUserns: boolean;
  size: boolean;
}

// Library dirs: merged-/usr systems have them as symlinks into /usr, older ones as real dirs.
const SYSTEM_DIRS = ["/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"];
// The few /etc files the dynamic loader and Python read; the rest of /etc (passwd, shadow, ssh, ...) stays out.
const ETC_FILES = ["/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d", "/etc/alternatives", "/etc/localtime"];

/** Environment inside the sandbox: nothing from the host, single-threaded numeric libraries, reproducible hashing. */
export const SANDBOX_ENV: Readonly<Record<string, string>> = {
  PATH: "/usr/local/bin:/usr/bin:/bin",
  HOME: "/tmp",
  TMPDIR: "/tmp",
  LANG: "C.UTF-8",
  PYTHONHASHSEED: "0",
  PYTHONDONTWRITEBYTECODE: "1",
  PYTHONIOENCODING: "utf-8",
  OMP_NUM_THREADS: "1",
  OPENBLAS_NUM_THREADS: "1",
  MKL_NUM_THREADS: "1",
};

function systemMounts(): string[] {
  const args: string[] = ["--ro-bind", "/usr", "/usr"];
  for (const dir of SYSTEM_DIRS) {
    let st: fs.Stats;
    try {
      st = fs.lstatSync(dir);
    } catch {
      continue;
    }
    if (st.isSymbolicLink()) args.push("--symlink", fs.readlinkSync(dir), dir);
    else if (st.isDirectory()) args.push("--ro-bind", dir, dir);
  }
  for (const f of ETC_FILES) args.push("--ro-bind-try", f, f);
  // Debian's sitecustomize lives in /etc/python3.X.
  try {
    for (const name of fs.readdirSync("/etc"))
      if (/^python3(\.\d+)?$/.test(name)) args.push("--ro-bind-try", `/etc/${name}`, `/etc/${name}`);
  } catch {
    /* no /etc: nothing to add */
  }
  return args;
}

/** Directories that must be visible for `python` to run when it lives outside /usr (a venv, conda, /opt). */
export function pythonPrefixPaths(python: string): string[] {
  let real: string;
  try {
    real = fs.realpathSync(python);
  } catch {
    return [];
  }
  const inside = (p: string) => p === "/usr" || p.startsWith("/usr/") || SYSTEM_DIRS.some((d) => p.startsWith(d + "/"));
  const out: string[] = [];
  for (const p of [python, real]) {
    if (!inside(p)) out.push(path.dirname(path.dirname(p)));
  }
  return [...new Set(out)];
}

/**
 * The bwrap arguments (everything before the program) for one run.
 * @example
 * bwrapArgs({level: "bwrap", python: "/usr/bin/python3", tmpBytes: 64 << 20, readOnlyPaths: [],
 *   runnerSource: "print(1)", runnerArgs: []})
 */
export function bwrapArgs(input: SandboxArgsInput): string[] {
  const features = input.features ?? { disableUserns: true, size: true };
  const size = (flag: string, dest: string) =>
    features.size ? ["--size", String(input.tmpBytes), flag, dest] : [flag, dest];
  const args: string[] = [];
  if (input.level === "bwrap") args.push("--unshare-user", ...(features.disableUserns ? ["--disable-userns"] : []));
  args.push(
    "--unshare-pid",
    "--unshare-net",
    "--unshare-ipc",
    "--unshare-uts",
    "--unshare-cgroup-try",
    "--die-with-parent",
    "--new-session",
    "--as-pid-1",
    "--hostname",
    "sandbox",
  );
  // Root without a user namespace keeps only what the runner needs to switch to an unprivileged uid.
  if (input.level === "bwrap-root")
    args.push("--cap-drop", "ALL", "--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID");
  else args.push("--cap-drop", "ALL");
  if (input.seccompFd !== undefined) args.push("--seccomp", String(input.seccompFd));
  args.push(...systemMounts());
  for (const p of [...pythonPrefixPaths(input.python), ...input.readOnlyPaths]) args.push("--ro-bind", p, p);
  args.push(
    "--proc",
    "/proc",
    "--dev",
    "/dev",
    ...size("--tmpfs", "/dev/shm"),
    "--mqueue",
    "/dev/mqueue",
    "--remount-ro",
    "/dev",
    ...size("--tmpfs", "/tmp"),
    "--remount-ro",
    "/",
    "--chdir",
    "/tmp",
    "--clearenv",
  );
  for (const [k, v] of Object.entries(SANDBOX_ENV)) args.push("--setenv", k, v);
  args.push("--", input.python, "-s", "-B", "-c", input.runnerSource, ...input.runnerArgs);
  return args;
}

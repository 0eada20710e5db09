// A seccomp filter (classic BPF, handed to `bwrap --seccomp FD`) that refuses the system calls ordinary Python never
// needs and kernel exploits and escapes often do: ptrace, bpf, perf, io_uring, userfaultfd, keyrings, namespaces,
// mounts, modules, kexec. Everything else is allowed (a deny-list, like Docker's profile in spirit, much shorter).

/** The refused system calls by name; numbers per architecture below. */
export const DENIED_SYSCALLS = [
  "ptrace",
  "process_vm_readv",
  "process_vm_writev",
  "kcmp",
  "bpf",
  "perf_event_open",
  "userfaultfd",
  "io_uring_setup",
  "io_uring_enter",
  "io_uring_register",
  "keyctl",
  "add_key",
  "request_key",
  "unshare",
  "setns",
  "mount",
  "umount2",
  "pivot_root",
  "open_tree",
  "move_mount",
  "fsopen",
  "fsconfig",
  "fsmount",
  "fspick",
  "mount_setattr",
  "name_to_handle_at",
  "open_by_handle_at",
  "fanotify_init",
  "init_module",
  "finit_module",
  "delete_module",
  "kexec_load",
  "kexec_file_load",
  "reboot",
  "swapon",
  "swapoff",
  "acct",
  "syslog",
  "quotactl",
  "iopl",
  "ioperm",
] as const;

type Table = Partial<Record<(typeof DENIED_SYSCALLS)[number], number>>;

// From <asm/unistd_64.h> (x86_64) and <asm-generic/unistd.h> (aarch64).
const X86_64: Table = {
  ptrace: 101,
  syslog: 103,
  acct: 163,
  mount: 165,
  umount2: 166,
  swapon: 167,
  swapoff: 168,
  reboot: 169,
  iopl: 172,
  ioperm: 173,
  init_module: 175,
  delete_module: 176,
  quotactl: 179,
  pivot_root: 155,
  kexec_load: 246,
  add_key: 248,
  request_key: 249,
  keyctl: 250,
  unshare: 272,
  perf_event_open: 298,
  fanotify_init: 300,
  name_to_handle_at: 303,
  open_by_handle_at: 304,
  setns: 308,
  process_vm_readv: 310,
  process_vm_writev: 311,
  kcmp: 312,
  finit_module: 313,
  kexec_file_load: 320,
  bpf: 321,
  userfaultfd: 323,
  io_uring_setup: 425,
  io_uring_enter: 426,
  io_uring_register: 427,
  open_tree: 428,
  move_mount: 429,
  fsopen: 430,
  fsconfig: 431,
  fsmount: 432,
  fspick: 433,
  mount_setattr: 442,
};
const AARCH64: Table = {
  ptrace: 117,
  syslog: 116,
  acct: 89,
  mount: 40,
  umount2: 39,
  swapon: 224,
  swapoff: 225,
  reboot: 142,
  init_module: 105,
  delete_module: 106,
  quotactl: 60,
  pivot_root: 41,
  kexec_load: 104,
  add_key: 217,
  request_key: 218,
  keyctl: 219,
  unshare: 97,
  perf_event_open: 241,
  fanotify_init: 262,
  name_to_handle_at: 264,
  open_by_handle_at: 265,
  setns: 268,
  process_vm_readv: 270,
  process_vm_writev: 271,
  kcmp: 272,
  finit_module: 273,
  kexec_file_load: 294,
  bpf: 280,
  userfaultfd: 282,
  io_uring_setup: 425,
  io_uring_enter: 426,
  io_uring_register: 427,
  open_tree: 428,
  move_mount: 429,
  fsopen: 430,
  fsconfig: 431,
  fsmount: 432,
  fspick: 433,
  mount_setattr: 442,
};
const ARCHES: Record<string, { audit: number; table: Table; x32: boolean }> = {
  x64: { audit: 0xc000003e, table: X86_64, x32: true },
  arm64: { audit: 0xc00000b7, table: AARCH64, x32: false },
};

const LD_W_ABS = 0x20;
const JEQ_K = 0x15;
const JGE_K = 0x35;
const RET_K = 0x06;
const RET_ALLOW = 0x7fff0000;
const RET_ERRNO = 0x00050000;
const EPERM = 1;
const ENOSYS = 38;

/**
 * The filter as the bytes of a `struct sock_filter[]` for this machine's architecture, or null on an architecture
 * without a table (the sandbox then runs without it). Calls of another ABI (i386 via int 0x80, x32) are refused too.
 * @example seccompFilter("x64")!.length / 8 // instructions
 */
export function seccompFilter(arch: string = process.arch): Buffer | null {
  const spec = ARCHES[arch];
  if (!spec) return null;
  const nrs = [...new Set(Object.values(spec.table))];
  type Ins = [code: number, jt: number, jf: number, k: number];
  const body: Ins[] = [];
  // Layout: [0] load arch, [1] arch check, [2] load nr, [3] x32 check (x86_64), [..] one jeq per call, then
  // ALLOW, EPERM, ENOSYS. Jump targets are filled in once the length is known.
  const head = spec.x32 ? 4 : 3;
  const allow = head + nrs.length;
  const eperm = allow + 1;
  const enosys = allow + 2;
  body.push([LD_W_ABS, 0, 0, 4]);
  body.push([JEQ_K, 0, enosys - 2, spec.audit]);
  body.push([LD_W_ABS, 0, 0, 0]);
  if (spec.x32) body.push([JGE_K, eperm - 4, 0, 0x40000000]);
  nrs.forEach((nr, i) => body.push([JEQ_K, eperm - (head + i) - 1, 0, nr]));
  body.push([RET_K, 0, 0, RET_ALLOW]);
  body.push([RET_K, 0, 0, RET_ERRNO | EPERM]);
  body.push([RET_K, 0, 0, RET_ERRNO | ENOSYS]);
  const buf = Buffer.alloc(body.length * 8);
  body.forEach(([code, jt, jf, k], i) => {
    buf.writeUInt16LE(code, i * 8);
    buf.writeUInt8(jt, i * 8 + 2);
    buf.writeUInt8(jf, i * 8 + 3);
    buf.writeUInt32LE(k >>> 0, i * 8 + 4);
  });
  return buf;
}

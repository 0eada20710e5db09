// Is the PyTorch peer a fair one? Debian's python3-torch calls whatever libblas.so.3 the alternatives system points
// at. With the reference BLAS (Netlib, no blocking, no SIMD kernels) torch runs 7-17x slower than with OpenBLAS, and
// every ratio against it flatters cellrl. The bench pins the peer: the BLAS the python process actually mapped must be
// an optimised one AND its fp32 matmul rate (GFLOP per CPU-second, so a busy machine does not trip it) must clear a
// floor no reference BLAS reaches. Pure logic here (no timing), so test/bench/peer-check.test.ts can feed it fakes.

/** Which BLAS a process mapped, from its /proc/self/maps text. */
export type BlasKind = "OpenBLAS" | "MKL" | "BLIS" | "reference BLAS" | "none found";

/**
 * fp32 matmul GFLOP per CPU-second (256x256x256, one thread) below which the peer is refused. OpenBLAS on one
 * AVX2 core does 40-75; the reference BLAS does 1-6 (measured on the bench machine: 60-73 with OpenBLAS).
 */
export const MATMUL_FLOOR_GFLOPS = 12;

/** The fix printed when the peer is refused. */
export const BLAS_FIX =
  "fix: `apt-get install libopenblas0-pthread` (Debian/Ubuntu), or point libblas.so.3 at it: " +
  "`update-alternatives --config libblas.so.3-x86_64-linux-gnu` (pick .../openblas-pthread/libblas.so.3)";

/** What the python peer reports about itself (bench/torch_peer.py's "info" command). */
export interface PeerProbe {
  /** Paths of the shared objects the python process mapped (the whole /proc/self/maps text works too). */
  maps: string;
  /** Measured fp32 matmul GFLOP per CPU-second on one thread; NaN when the probe could not time it. */
  matmulGflops: number;
}

/** The verdict on a peer: a ratio against it is printed only when `ok`. */
export interface PeerVerdict {
  ok: boolean;
  blas: BlasKind;
  /** The BLAS library path that decided `blas` (empty when none was mapped). */
  blasPath: string;
  /** Why the peer is refused, with the fix (empty when ok). */
  reason: string;
}

/**
 * Name the BLAS a process mapped: OpenBLAS / MKL / BLIS by library name or directory (Debian's alternatives put
 * OpenBLAS's libblas.so.3 under .../openblas-pthread/), otherwise a bare libblas.so.3 is the reference BLAS.
 * @example blasFromMaps("7f.. r-xp ... /usr/lib/x86_64-linux-gnu/openblas-pthread/libblas.so.3") // { kind: "OpenBLAS", ... }
 */
export function blasFromMaps(maps: string): { kind: BlasKind; path: string } {
  const paths = [
    ...new Set(
      maps
        .split("\n")
        .map((l) => l.trim().split(/\s+/).pop() ?? "")
        .filter((p) => p.startsWith("/") && /\.so/.test(p)),
    ),
  ];
  const find = (re: RegExp) => paths.find((p) => re.test(p));
  const named: [BlasKind, RegExp][] = [
    ["OpenBLAS", /openblas/i],
    ["MKL", /libmkl|\/mkl\//i],
    ["BLIS", /libblis|\/blis[^/]*\//i],
  ];
  for (const [kind, re] of named) {
    const p = find(re);
    if (p) return { kind, path: p };
  }
  const ref = find(/\/libblas\.so|\/libcblas\.so|\/blas\/libblas/);
  if (ref) return { kind: "reference BLAS", path: ref };
  return { kind: "none found", path: "" };
}

/**
 * Decide whether a ratio against this peer may be printed: refused when the process mapped the reference BLAS (or
 * no BLAS at all) or when its measured matmul rate is below `floor` (or was not measured).
 * @example peerVerdict({ maps, matmulGflops: 65 }).ok // true with OpenBLAS mapped
 */
export function peerVerdict(probe: PeerProbe, floor = MATMUL_FLOOR_GFLOPS): PeerVerdict {
  const { kind, path } = blasFromMaps(probe.maps);
  const reasons: string[] = [];
  if (kind === "reference BLAS")
    reasons.push(`torch's process mapped the reference BLAS (${path}), which is 7-17x slower than OpenBLAS`);
  else if (kind === "none found") reasons.push("no BLAS library was found in torch's /proc/self/maps");
  if (!Number.isFinite(probe.matmulGflops))
    reasons.push(`the fp32 matmul rate could not be measured (got ${probe.matmulGflops})`);
  else if (probe.matmulGflops < floor)
    reasons.push(
      `its fp32 matmul runs at ${probe.matmulGflops.toFixed(1)} GFLOP per CPU-second on 1 thread (expected >= ${floor}; the reference BLAS is this slow)`,
    );
  return {
    ok: reasons.length === 0,
    blas: kind,
    blasPath: path,
    reason: reasons.length ? `PyTorch peer refused: ${reasons.join("; ")}. ${BLAS_FIX}.` : "",
  };
}

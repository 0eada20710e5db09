// The bench refuses a PyTorch peer on the reference BLAS (bench/peer-check.ts): fed fake /proc/self/maps text and
// fake matmul rates, nothing is timed here.
import assert from "node:assert/strict";
import { test } from "node:test";
import { blasFromMaps, MATMUL_FLOOR_GFLOPS, peerVerdict } from "../../bench/peer-check.js";

const line = (path: string) => `7f0c2a000000-7f0c2a200000 r-xp 00000000 08:01 1234  ${path}`;
const torchLibs = [
  line("/usr/lib/x86_64-linux-gnu/libtorch_cpu.so.1.13.0"),
  line("/usr/lib/x86_64-linux-gnu/libgomp.so.1.0.0"),
  "7ffd1000-7ffd2000 rw-p 00000000 00:00 0  [stack]",
];
// Debian with libopenblas0-pthread: the alternatives point libblas.so.3 into openblas-pthread/.
const openblasMaps = [
  ...torchLibs,
  line("/usr/lib/x86_64-linux-gnu/openblas-pthread/libblas.so.3"),
  line("/usr/lib/x86_64-linux-gnu/openblas-pthread/libopenblasp-r0.3.21.so"),
].join("\n");
// A fresh Debian machine: python3-torch pulls libblas3 (Netlib reference BLAS) only.
const referenceMaps = [
  ...torchLibs,
  line("/usr/lib/x86_64-linux-gnu/blas/libblas.so.3.11.0"),
  line("/usr/lib/x86_64-linux-gnu/lapack/liblapack.so.3.11.0"),
].join("\n");

test("blasFromMaps names OpenBLAS behind Debian's libblas.so.3 alternative, and the bare reference BLAS", () => {
  assert.equal(blasFromMaps(openblasMaps).kind, "OpenBLAS");
  assert.match(blasFromMaps(openblasMaps).path, /openblas-pthread/);
  assert.equal(blasFromMaps(referenceMaps).kind, "reference BLAS");
  assert.equal(blasFromMaps(referenceMaps).path, "/usr/lib/x86_64-linux-gnu/blas/libblas.so.3.11.0");
  assert.equal(blasFromMaps(line("/opt/intel/oneapi/mkl/lib/libmkl_rt.so.2")).kind, "MKL");
  assert.equal(blasFromMaps(line("/usr/lib/x86_64-linux-gnu/libblis.so.4")).kind, "BLIS");
  assert.equal(blasFromMaps(torchLibs.join("\n")).kind, "none found");
  // the python peer sends bare paths, one a line
  assert.equal(blasFromMaps("/usr/lib/x86_64-linux-gnu/libblas.so.3").kind, "reference BLAS");
});

test("peerVerdict accepts OpenBLAS at an OpenBLAS matmul rate", () => {
  const v = peerVerdict({ maps: openblasMaps, matmulGflops: 65 });
  assert.equal(v.ok, true);
  assert.equal(v.blas, "OpenBLAS");
  assert.equal(v.reason, "");
});

test("peerVerdict refuses the reference BLAS and prints the fix", () => {
  const v = peerVerdict({ maps: referenceMaps, matmulGflops: 3.1 });
  assert.equal(v.ok, false);
  assert.equal(v.blas, "reference BLAS");
  assert.match(v.reason, /reference BLAS \(\/usr\/lib\/x86_64-linux-gnu\/blas\/libblas\.so\.3\.11\.0\)/);
  assert.match(v.reason, /3\.1 GFLOP per CPU-second/);
  assert.match(v.reason, /apt-get install libopenblas0-pthread/);
  assert.match(v.reason, /update-alternatives/);
  // the library alone is enough to refuse, even if the rate were fine
  assert.equal(peerVerdict({ maps: referenceMaps, matmulGflops: 80 }).ok, false);
});

test("peerVerdict refuses an OpenBLAS mapping whose matmul rate is below the floor, or unmeasured", () => {
  const slow = peerVerdict({ maps: openblasMaps, matmulGflops: MATMUL_FLOOR_GFLOPS - 0.5 });
  assert.equal(slow.ok, false);
  assert.match(slow.reason, new RegExp(`expected >= ${MATMUL_FLOOR_GFLOPS}`));
  assert.equal(peerVerdict({ maps: openblasMaps, matmulGflops: MATMUL_FLOOR_GFLOPS }).ok, true);
  assert.equal(peerVerdict({ maps: openblasMaps, matmulGflops: NaN }).ok, false);
  assert.equal(peerVerdict({ maps: openblasMaps, matmulGflops: 20 }, 30).ok, false);
  assert.equal(peerVerdict({ maps: torchLibs.join("\n"), matmulGflops: 65 }).ok, false);
});

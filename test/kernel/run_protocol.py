# Runs the jupyter_kernel_test suite configured in kernel_protocol.py against the cellrl kernel and prints the
# per-test outcomes as one JSON line starting with "RESULT " (robust to the kernel's own log lines on stderr).
# Used by protocol.test.ts, which runs it with test/kernel as the working directory.
import io
import json
import unittest

import kernel_protocol

suite = unittest.defaultTestLoader.loadTestsFromModule(kernel_protocol)
stream = io.StringIO()
result = unittest.TextTestRunner(stream=stream, verbosity=2).run(suite)
print("RESULT " + json.dumps({
    "run": result.testsRun,
    "failures": [[t.id(), tb] for t, tb in result.failures + result.errors],
    "skipped": [t.id() for t, _ in result.skipped],
    "log": stream.getvalue(),
}))

"""jupyter_kernel_test configuration for the cellrl kernel (run by test/kernel/protocol.test.ts).

Run by hand:  JUPYTER_PATH=$PWD/.jupyter /usr/bin/python3 -m unittest -v test/kernel/kernel_protocol.py
(after `npm run build && npm run kernel:install`). Every check of jupyter_kernel_test 0.4.5 is enabled.
"""

import os
import unittest

import jupyter_kernel_test


class CellrlKernelTests(jupyter_kernel_test.KernelTests):
    kernel_name = os.environ.get("CELLRL_KERNEL_NAME", "cellrl")
    language_name = "typescript"
    file_extension = ".ts"

    code_hello_world = 'console.log("hello, world")'
    code_stderr = 'console.error("oops")'

    # The kernel's TypeScript completions (tslab's language service).
    completion_samples = [
        {"text": "Math.ma", "matches": {"max"}},
        {"text": "const cellrlCompletionProbe = 1; cellrlCompletionPr", "matches": {"cellrlCompletionProbe"}},
    ]

    complete_code_samples = ["1 + 1", "const a = 1;", "function f() { return 1; }"]
    incomplete_code_samples = ["function f() {", "const xs = [1, 2,"]
    invalid_code_samples = ["1 +* 2", "const = 5"]

    code_generate_error = 'throw new Error("boom")'

    code_execute_result = [
        {"code": "6 * 7", "result": "42"},
        {"code": '"hello".toUpperCase()', "result": "'HELLO'"},  # strings are shown quoted, as in Node's REPL
        {"code": "[1, 2, 3].map((x) => x * 2)", "result": "[ 2, 4, 6 ]"},
    ]

    code_display_data = [
        {"code": 'import * as tslab from "tslab"; tslab.display.html("<b>x</b>")', "mime": "text/html"},
        {"code": 'import { display } from "cellrl"; display({"text/plain": "p", "text/html": "<i>p</i>"})', "mime": "text/html"},
        {"code": 'import { display } from "cellrl"; display({"text/plain": "p", "image/png": "iVBORw0KGgo="})', "mime": "image/png"},
    ]

    # Matches the code of code_execute_result[0].
    code_history_pattern = "6 * 7"
    supported_history_operations = ("tail", "range", "search")

    code_inspect_sample = "Math.max"

    code_clear_output = 'import { clearOutput } from "cellrl"; clearOutput()'


if __name__ == "__main__":
    unittest.main(verbosity=2)

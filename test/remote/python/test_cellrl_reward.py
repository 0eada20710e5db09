"""Unit tests of lib/remote/python/cellrl_reward.py, the verl custom reward function remote.exportVerlRun writes.

They load the real file (and copies of it with a settings line, as an export writes it) and call its functions;
test/remote/verl-reward.test.ts compares its scores with reward.scoreSync on thousands of responses. Run by
test/remote/verl-reward-python.test.ts:  /usr/bin/python3 -B -m unittest discover -s test/remote/python -v
"""
import importlib.util
import json
import math
import os
import subprocess
import sys
import tempfile
import unittest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
REWARD = os.environ.get("CELLRL_REWARD_FILE") or os.path.join(ROOT, "lib", "remote", "python", "cellrl_reward.py")


def load(path=REWARD):
    spec = importlib.util.spec_from_file_location("custom_module", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


M = load()


def with_settings(settings):
    """A copy of the file with its settings line rewritten the way remote.verlRewardPython does."""
    with open(REWARD) as f:
        lines = f.read().split("\n")
    at = [i for i, line in enumerate(lines) if line.startswith("_EXPORT = json.loads(")]
    assert len(at) == 1, at
    lines[at[0]] = "_EXPORT = json.loads(%s)" % json.dumps(json.dumps(settings))
    fd, path = tempfile.mkstemp(suffix=".py")
    with os.fdopen(fd, "w") as f:
        f.write("\n".join(lines))
    try:
        return load(path)
    finally:
        os.unlink(path)


class JavaScriptSemanticsTest(unittest.TestCase):
    def test_trim_removes_ecmascript_whitespace_only(self):
        self.assertEqual(M._trim("\ufeff\u00a0 12\u2028\t"), "12")
        self.assertEqual(M._trim("\u0085x\u0085"), "\u0085x\u0085")  # NEL: Python's strip() removes it, JS's trim() not

    def test_utf16_code_units(self):
        self.assertEqual(M._u16("ab"), [97, 98])
        self.assertEqual(len(M._u16("\U0001F600")), 2)

    def test_js_number(self):
        for v, want in [(None, 0), (True, 1), ("", 0), (" 12 ", 12.0), ("0x10", 16), ("0b11", 3), ("-Infinity", -math.inf),
                        ("1e3", 1000.0), (".5", 0.5), (7, 7)]:
            self.assertEqual(M._js_number(v), want, v)
        for v in ("abc", "1 2", "--1", [1]):
            self.assertTrue(math.isnan(M._js_number(v)), v)

    def test_js_string(self):
        for v, want in [("x", "x"), (None, "null"), (False, "false"), (3, "3"), (3.0, "3"), (0.5, "0.5"), (1e21, "1e+21"),
                        (1.5e-7, "1.5e-7"), (float("nan"), "NaN"), ([1, None, "a"], "1,,a"),
                        ({"a": 1}, "[object Object]")]:
            self.assertEqual(M._js_string(v), want, v)

    def test_truth_decodes_json_text_strings_only(self):
        self.assertEqual(M._truth('"12359"'), "12359")
        self.assertEqual(M._truth(b"abc"), "abc")
        self.assertEqual(M._truth('{"target": 5}'), '{"target": 5}')
        self.assertEqual(M._truth('"unterminated'), '"unterminated')


class VerifierTest(unittest.TestCase):
    def test_answer_of_takes_the_last_answer_tag(self):
        self.assertEqual(M.answer_of("<answer>1</answer> then <answer> 2 </answer>"), "2")
        self.assertEqual(M.answer_of("  no tags \n"), "no tags")
        self.assertEqual(M.answer_of("</answer><answer>x"), "</answer><answer>x")

    def test_eval_int_expr_is_exact(self):
        self.assertEqual(M.eval_int_expr("(1 + 2) * 3"), ((9, 1), [1, 2, 3]))
        self.assertEqual(M.eval_int_expr("7/2-1/2"), ((12, 4), [7, 2, 1, 2]))
        for bad in ("1/0", "-1", "", "1+", "(1", "1)", "(" * 51 + "1" + ")" * 51, "1234567890123456"):
            with self.assertRaises(M._ExprError, msg=bad):
                M.eval_int_expr(bad)

    def test_countdown(self):
        gt = {"target": 24, "numbers": [4, 6, 1]}
        self.assertEqual(M.compute_score("cellrl/countdown", "<answer>4*6*1</answer>", gt), 1.0)
        self.assertEqual(M.compute_score("cellrl/countdown", "<answer>4*6</answer>", gt), 0.1)  # not all numbers
        self.assertEqual(M.compute_score("cellrl/countdown", "<answer>4*6*1</answer>", json.dumps(gt)), 1.0)
        self.assertEqual(M.compute_score("cellrl/countdown", "4*6*1*1", gt, formatScore=0), 0.0)
        self.assertEqual(M.compute_score("cellrl/countdown", "import os", gt), 0.1)
        self.assertEqual(M.compute_score("cellrl/countdown", "", gt), 0.0)
        with self.assertRaises(ValueError):
            M.compute_score("cellrl/countdown", "1", {"target": 3})

    def test_sequence_arith_modular_partial_credit(self):
        self.assertEqual(M.compute_score("cellrl/sort", "<answer>12359</answer>", "12359"), 1.0)
        self.assertEqual(M.compute_score("cellrl/reverse", "12399", "12359"), 0.0)
        self.assertAlmostEqual(M.compute_score("cellrl/sort", "12399", "12359", partialWeight=0.5), 0.5 * 4 / 5)
        self.assertAlmostEqual(M.compute_score("cellrl/arith", "1059", "159", partialWeight=1), 2 / 4)  # aligned right
        self.assertEqual(M.compute_score("cellrl/modular", "1059", "159", partialWeight=1), 0.0)
        self.assertEqual(M.compute_score("cellrl/arith", "-7", -7), 1.0)

    def test_pair_sum_and_derange(self):
        self.assertEqual(M.compute_score("cellrl/pair-sum", "3+4", {"target": 7, "minValue": 2}), 1.0)
        self.assertEqual(M.compute_score("cellrl/pair-sum", "1+6", {"target": 7, "minValue": 2}), 0.0)
        self.assertEqual(M.compute_score("cellrl/pair-sum", "03+4", {"target": 7}), 0.0)
        self.assertEqual(M.compute_score("cellrl/derange", "bca", "abc"), 1.0)
        self.assertEqual(M.compute_score("cellrl/derange", "acb", "abc"), 0.0)  # a stays in place
        self.assertEqual(M.compute_score("cellrl/derange", "bcd", "abc"), 0.0)


class RoutingTest(unittest.TestCase):
    def test_default_settings_are_empty(self):
        self.assertEqual(M._EXPORT, {"sources": {}, "options": {}})

    def test_unknown_cellrl_source_is_an_error_and_others_go_to_verl(self):
        with self.assertRaisesRegex(ValueError, "not a task this file implements"):
            M.compute_score("cellrl/unknown", "1", "1")
        if importlib.util.find_spec("verl") is None:
            with self.assertRaisesRegex(ImportError, "verl"):  # the lazy import of verl's scorer proves the hand-off
                M.compute_score("openai/gsm8k", "18", "18")
        with self.assertRaisesRegex(ValueError, "no cellrl verifier"):
            M.cellrl_score("openai/gsm8k", "18", "18")

    def test_settings_line_adds_sources_and_default_options(self):
        m = with_settings({"sources": {"my/countdown": "countdown"}, "options": {"formatScore": 0.5}})
        gt = {"target": 24, "numbers": [4, 6, 1]}
        self.assertEqual(m.compute_score("my/countdown", "4*6*1", gt), 1.0)
        self.assertEqual(m.compute_score("my/countdown", "4*6", gt), 0.5)
        self.assertEqual(m.compute_score("my/countdown", "4*6", gt, formatScore=0.25), 0.25)  # reward kwargs win

    def test_command_line_checker(self):
        cases = [{"data_source": "cellrl/sort", "solution_str": "123", "ground_truth": "123"},
                 {"data_source": "cellrl/nope", "solution_str": "1", "ground_truth": "1"}]
        p = subprocess.run([sys.executable, "-B", REWARD], input="\n".join(json.dumps(c) for c in cases) + "\n\n",
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr)
        out = [json.loads(line) for line in p.stdout.splitlines()]
        self.assertEqual(out[0], {"score": 1.0})
        self.assertTrue(out[1]["error"].startswith("ValueError: cellrl_reward.py: data_source 'cellrl/nope'"), out[1])


if __name__ == "__main__":
    unittest.main()

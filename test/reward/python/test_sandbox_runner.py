"""Unit tests of lib/reward/python/sandbox_runner.py, the program that runs inside the code-reward sandbox.

They load the real file and call its functions directly, unsandboxed (the children it forks are plain processes
here); test/reward/sandbox-*.test.ts check the same runner inside bubblewrap. Run by test/reward/python.test.ts:
    /usr/bin/python3 -B -m unittest discover -s test/reward/python -v
"""
import importlib.util
import io
import json
import os
import signal
import subprocess
import sys
import tempfile
import unittest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
RUNNER = os.environ.get("CELLRL_SANDBOX_RUNNER") or os.path.join(ROOT, "lib", "reward", "python", "sandbox_runner.py")


def load_runner():
    spec = importlib.util.spec_from_file_location("sandbox_runner", RUNNER)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


R = load_runner()
LIMITS = {"as": 1 << 30, "nproc": None, "fsize": 16 << 20, "nofile": 256}


def job(**fields):
    j = {"preamble": "", "stop": True, "timeout": 5, "outputCap": 1 << 20, "statusCap": 1 << 20, "limits": LIMITS}
    j.update(fields)
    return j


class Events:
    """Collects what the runner emits (instead of writing JSON lines to fd 1) and feeds stdio verdicts."""

    def __init__(self, verdicts=b""):
        self.events = []
        self.verdicts = verdicts

    def __enter__(self):
        self.emit, self.stdin = R.emit, sys.stdin
        R.emit = self.events.append
        sys.stdin = io.TextIOWrapper(io.BytesIO(self.verdicts))
        return self.events

    def __exit__(self, *exc):
        R.emit, sys.stdin = self.emit, self.stdin


def run(j, verdicts=b""):
    with Events(verdicts) as events:
        R.run_job(j, {})
    return events


class FormatTest(unittest.TestCase):
    def test_fmt_exc_names_type_and_message(self):
        self.assertEqual(R.fmt_exc(ValueError("bad value")), "ValueError: bad value")
        self.assertEqual(R.fmt_exc(KeyError()), "KeyError")
        self.assertEqual(len(R.fmt_exc(ValueError("x" * 5000))), 1000)

    def test_fmt_exc_points_at_the_failing_test_line(self):
        lines = ["x = 1", "assert x == 2", "y = 3"]
        try:
            exec(compile("\n".join(lines), "<test>", "exec"), {})
        except AssertionError as e:
            self.assertEqual(R.fmt_exc(e, lines), "AssertionError [at: assert x == 2]")
        else:
            self.fail("the assert did not fail")

    def test_describe_status(self):
        self.assertEqual(R.describe_status(None), "killed")
        pid = os.fork()
        if pid == 0:
            os._exit(3)
        self.assertEqual(R.describe_status(os.waitpid(pid, 0)[1]), "exit 3")
        pid = os.fork()
        if pid == 0:
            os.kill(os.getpid(), signal.SIGKILL)
            os._exit(0)
        self.assertEqual(R.describe_status(os.waitpid(pid, 0)[1]), "signal SIGKILL")


class UnitsTest(unittest.TestCase):
    def test_each_assert_is_a_unit_carrying_its_setup(self):
        units = R.build_units({"testSource": "x = 1\nassert x == 1\ny = 2\nassert x + y == 4\nz = 0\n"})
        self.assertEqual(len(units), 2)
        g = {}
        exec(units[0], g)
        with self.assertRaises(AssertionError):
            exec(units[1], g)

    def test_check_function_is_called_with_the_entry_point(self):
        src = "def check(candidate):\n    assert candidate(1) == 2\n    assert candidate(2) == 3\n"
        units = R.build_units({"testSource": src, "entry": "inc"})
        self.assertEqual(len(units), 1)
        g = {"inc": lambda v: v + 1}
        exec(units[0], g)
        g["inc"] = lambda v: v
        with self.assertRaises(AssertionError):
            exec(units[0], g)

    def test_blocks_with_asserts_and_no_tests(self):
        self.assertEqual(len(R.build_units({"testSource": "for i in range(3):\n    assert i < 3\n"})), 1)
        self.assertEqual(R.build_units({"testSource": "x = 1\nprint(x)\n"}), [])
        with self.assertRaises(SyntaxError):
            R.build_units({"testSource": "assert (\n"})


class ValueTest(unittest.TestCase):
    def test_plain_values_round_trip_and_objects_become_refs(self):
        for v in [None, True, 0, -(10 ** 40), 1.5, float("inf"), "a\udc80", [1, [2]], (1, "x"), {1: [2], "k": None},
                  {1, 2}, frozenset([3]), b"\x00\xff", 1 + 2j]:
            self.assertEqual(R.decode(json.loads(json.dumps(R.encode(v)))), v)
            self.assertIs(type(R.decode(R.encode(v))), type(v))

        class Any(int):
            def __eq__(self, other):
                return True

        # A subclass crosses as its base value: its own __eq__ stays behind. Other objects become references.
        self.assertEqual(R.encode([Any(1)]), [1])
        self.assertIs(type(R.decode(R.encode(Any(1)))), int)
        import collections
        self.assertEqual(R.decode(R.encode(collections.Counter("aab"))), {"a": 2, "b": 1})
        self.assertEqual(R.encode([object()], lambda o: 7), [{"ref": 7}])
        with self.assertRaises(TypeError):
            R.encode(object())
        with self.assertRaises(ValueError):
            R.decode({"eval": "1"})

    def test_a_remote_object_equals_only_itself(self):
        link = R.Link(-1, 100)
        a, b = link.proxy(1), link.proxy(2)
        self.assertTrue(a == a)
        self.assertFalse(a == b)
        self.assertFalse(a == 5)
        self.assertTrue(a != 5)
        self.assertIs(link.proxy(1), a)


class JobTest(unittest.TestCase):
    def test_functional_tests_run_outside_the_program(self):
        forgeries = [
            "import builtins\nbuiltins.exec = lambda *a, **k: None\ndef f(x):\n    return 0\n",
            "class A:\n    def __eq__(self, o):\n        return True\ndef f(x):\n    return A()\n",
            "import builtins\nclass Q(BaseException):\n    pass\nbuiltins.AssertionError = Q\ndef f(x):\n    return 0\n",
            "import gc, re\ndef f(x):\n    for o in gc.get_objects():\n        if isinstance(o, dict) and 'testSource' in o:\n"
            "            return int(re.search(r'== (\\d+)', o['testSource']).group(1))\n    return -1\n",
        ]
        for prog in forgeries:
            events = run(job(mode="functional", program=prog, testSource="assert f(1) == 918273\n"))
            self.assertEqual(events[-1]["s"], "fail", prog)
        # StopIteration raised by the program would end map() early and make all(...) true.
        events = run(job(mode="functional", program="def f(x):\n    raise StopIteration\n",
                         testSource="assert all(map(lambda x: f(x) == 918273, [1, 2]))\n"))
        self.assertEqual(events[-1]["s"], "fail")
        self.assertIn("RuntimeError: StopIteration", events[-1]["msg"])
        # An honest program that returns objects, generators and raises is tested as before.
        prog = ("class Node:\n    def __init__(self, v):\n        self.val = v\n"
                "def f(n):\n    if n < 0:\n        raise ValueError('negative')\n    return (i * i for i in range(n))\n"
                "def make(v):\n    return Node(v)\n")
        test = ("assert list(f(3)) == [0, 1, 4]\nassert 4 in f(3)\nassert make(5).val == 5\n"
                "try:\n    f(-1)\n    assert False\nexcept ValueError as e:\n    assert str(e) == 'negative'\n")
        events = run(job(mode="functional", program=prog, testSource=test, stop=False))
        self.assertEqual([e.get("s") for e in events if e["ev"] == "test"], ["ok"] * 4, events)

    def test_compile_error_is_reported_not_raised(self):
        events = run(job(mode="stdio", program="def (:", tests=[{"input": ""}]))
        self.assertEqual(len(events), 1)
        self.assertEqual(events[0]["ev"], "compile")
        self.assertFalse(events[0]["ok"])
        self.assertTrue(events[0]["msg"].startswith("SyntaxError"), events[0]["msg"])

    def test_a_candidate_forked_ahead_runs_the_next_job(self):
        R.STATE["factory"] or R.start_factory()
        R.prefork()
        self.assertIsNotNone(R.STATE["ready"])
        events = run(job(mode="functional", program="def f(x):\n    return x + 1\n", testSource="assert f(1) == 2\n"))
        self.assertIsNone(R.STATE["ready"])
        self.assertEqual(events[-1]["s"], "ok", events)
        R.prefork()
        events = run(job(mode="stdio", program="print(input())", tests=[{"input": "a"}, {"input": "b"}]), b"c\nc\n")
        self.assertEqual([e["out"] for e in events if e["ev"] == "test"], ["a\n", "b\n"])

    def test_functional_units_pass_and_fail_with_the_line(self):
        j = job(mode="functional", program="def f(x):\n    return x + 1\n", testSource="assert f(1) == 2\nassert f(2) == 4\n", stop=False)
        events = run(j)
        self.assertEqual([e["ev"] for e in events], ["compile", "units", "load", "test", "test"])
        self.assertEqual(events[1]["n"], 2)
        self.assertTrue(events[2]["ok"])
        self.assertEqual((events[3]["i"], events[3]["s"]), (0, "ok"))
        self.assertEqual((events[4]["i"], events[4]["s"]), (1, "fail"))
        self.assertEqual(events[4]["msg"], "AssertionError [at: assert f(2) == 4]")

    def test_functional_stops_at_the_first_failure(self):
        events = run(job(mode="functional", program="def f(x):\n    return x\n", testSource="assert f(1) == 2\nassert f(2) == 2\n"))
        self.assertEqual([(e["ev"], e.get("s")) for e in events], [("compile", None), ("units", None), ("load", None), ("test", "fail")])

    def test_functional_without_asserts_is_bad_tests(self):
        events = run(job(mode="functional", program="x = 1", testSource="print(1)\n"))
        self.assertEqual(events[-1]["ev"], "bad-tests")

    def test_call_mode_returns_json_values(self):
        prog = "class Solution:\n    def add(self, a, b):\n        return (a + b, [a])\n"
        events = run(job(mode="call", program=prog, fn="add", tests=[{"input": "1\n2"}, {"input": [3, 4]}]))
        tests = [e for e in events if e["ev"] == "test"]
        self.assertEqual([(t["i"], t["s"], R.decode(t["ret"])) for t in tests], [(0, "ret", (3, [1])), (1, "ret", (7, [3]))])

    def test_call_mode_returns_big_ints_exactly_and_refuses_objects(self):
        prog = "def f(x):\n    return [10 ** 5000 + 1, -(2 ** 70), 0.1, True, None, {1: 'a'}]\ndef g(x):\n    return object()\n"
        tests = [e for e in run(job(mode="call", program=prog, fn="f", tests=[{"input": "1"}])) if e["ev"] == "test"]
        self.assertEqual(R.decode(tests[0]["ret"]), [10 ** 5000 + 1, -(2 ** 70), 0.1, True, None, {1: "a"}])
        tests = [e for e in run(job(mode="call", program=prog, fn="g", tests=[{"input": "1"}])) if e["ev"] == "test"]
        self.assertEqual(tests[0]["s"], "fail")
        self.assertIn("not plain data", tests[0]["msg"])

    def test_call_mode_caps_huge_return_values(self):
        events = run(job(mode="call", program="def f():\n    return 'x' * 10000\n", fn="f", tests=[{"input": []}], outputCap=100))
        test = [e for e in events if e["ev"] == "test"][0]
        self.assertEqual(test["s"], "wrong")
        self.assertIn("10002 characters", test["msg"])

    def test_call_mode_missing_function(self):
        events = run(job(mode="call", program="x = 1", fn="solve", tests=[{"input": []}]))
        load = [e for e in events if e["ev"] == "load"][0]
        self.assertFalse(load["ok"])
        self.assertTrue(load["msg"].startswith("no function solve"), load["msg"])

    def test_stdio_runs_each_test_until_the_host_says_stop(self):
        j = job(mode="stdio", program="print(int(input()) * 2)", tests=[{"input": "3"}, {"input": "x"}, {"input": "5"}])
        events = run(j, b"c\ns\n")
        tests = [e for e in events if e["ev"] == "test"]
        self.assertEqual(len(tests), 2)
        self.assertEqual((tests[0]["s"], tests[0]["out"]), ("exit0", "6\n"))
        self.assertEqual((tests[1]["s"], tests[1]["exit"]), ("runtime-error", "exit 1"))
        self.assertIn("ValueError", tests[1]["err"])

    def test_stdio_exit_is_a_normal_ending(self):
        events = run(job(mode="stdio", program="print(1)\nexit(3)", tests=[{"input": ""}]), b"c\n")
        self.assertEqual(events[-1]["s"], "exit0")

    def test_stdio_timeout_and_output_limit(self):
        slow = run(job(mode="stdio", program="while True:\n    pass\n", timeout=0.3, tests=[{"input": ""}]), b"c\n")
        self.assertEqual(slow[-1]["s"], "timeout")
        self.assertLess(slow[-1]["ms"], 3000)
        loud = run(job(mode="stdio", program="print('x' * 100000)", tests=[{"input": ""}], outputCap=1000), b"c\n")
        self.assertEqual(loud[-1]["s"], "output-limit")
        self.assertEqual(len(loud[-1]["out"]), 1000)


class CleanupTest(unittest.TestCase):
    def test_wipe_counts_and_removes_everything_even_locked_dirs(self):
        root = tempfile.mkdtemp()
        try:
            os.makedirs(os.path.join(root, "a", "b"))
            for p in ("f1", "a/f2", "a/b/f3"):
                with open(os.path.join(root, p), "w") as f:
                    f.write("x")
            os.chmod(os.path.join(root, "a", "b"), 0)
            self.assertEqual(R.wipe(root), (5, True))
            self.assertEqual(os.listdir(root), [])
        finally:
            os.chmod(root, 0o700)
            subprocess.run(["rm", "-rf", root])

    def test_wipe_removes_a_nest_deeper_than_path_max(self):
        root = tempfile.mkdtemp()
        fd = os.open(root, os.O_RDONLY)
        try:
            for _ in range(200):  # 200 * 61 characters: far past PATH_MAX (4096)
                os.mkdir("d" * 60, dir_fd=fd)
                child = os.open("d" * 60, os.O_RDONLY, dir_fd=fd)
                os.close(fd)
                fd = child
            with open(os.open("deep-file", os.O_WRONLY | os.O_CREAT, 0o600, dir_fd=fd), "w") as f:
                f.write("x")
            n, empty = R.wipe(root)
            self.assertEqual((n, empty), (201, True))
            self.assertEqual(os.listdir(root), [])
        finally:
            os.close(fd)
            subprocess.run(["rm", "-rf", root])

    def test_set_limit_skips_unset_values(self):
        failed = []
        R.set_limit(R.resource.RLIMIT_NOFILE, None, failed, "nofile")
        R.set_limit(R.resource.RLIMIT_NOFILE, 0, failed, "nofile")
        self.assertEqual(failed, [])


class ProcessTest(unittest.TestCase):
    def test_main_speaks_the_line_protocol(self):
        """The runner as sandbox.ts starts it unsandboxed: python -c SOURCE -1 SCRATCH, one job line, JSON events."""
        scratch = tempfile.mkdtemp()
        try:
            with open(RUNNER) as f:
                source = f.read()
            j = job(mode="functional", program="def f(x):\n    return -x\n", testSource="assert f(2) == -2\n", last=True)
            with open(os.path.join(scratch, "left-behind"), "w") as f:
                f.write("x")
            p = subprocess.run([sys.executable, "-s", "-B", "-c", source, "-1", scratch], input=json.dumps(j) + "\n",
                               capture_output=True, text=True, timeout=60)
            self.assertEqual(p.returncode, 0, p.stderr)
            events = [json.loads(line) for line in p.stdout.splitlines()]
            self.assertEqual([e["ev"] for e in events], ["compile", "units", "load", "test", "done"])
            self.assertEqual(events[3]["s"], "ok")
            done = events[-1]
            self.assertEqual((done["pid1"], done["jobs"], done["recycle"]), (False, 1, []))
            self.assertEqual(os.listdir(scratch), [])
        finally:
            subprocess.run(["rm", "-rf", scratch])


if __name__ == "__main__":
    unittest.main()

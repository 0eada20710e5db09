"""The program that runs inside the code-reward sandbox (Python 3.8+, standard library only).

sandbox.ts reads this file at run time and starts it as `python3 -s -B -c <this source> UID SCRATCH...`, so the
sandbox needs no view of the package directory. It is trusted: it never executes model code itself, only forks
children that do, so a child cannot forge the parent's reports by patching Python.

Protocol: the host writes one JSON line per job on stdin; the runner writes one JSON event per line on stdout and, in
stdio mode, reads one verdict line ("c" continue / "s" stop) from the host after each test. After each job it kills
every leftover process and wipes its scratch dirs (argv[2:]); a job that left anything it cannot undo (stray
processes, SysV IPC, message queues, keys, many files) makes the runner exit so the next job gets a fresh sandbox.
argv[1] is the uid to drop to when started as root (bwrap-root), or -1.

Its functions are unit-tested in test/reward/python/test_sandbox_runner.py (run by test/reward/python.test.ts).
"""
import os, sys, io, json, time, select, signal, resource

PID1 = os.getpid() == 1
NONCE = os.urandom(16).hex()
SCRATCH = sys.argv[1:]
STATE = {"strays": 0}


def emit(obj):
    data = (json.dumps(obj) + "\n").encode()
    while data:
        n = os.write(1, data)
        data = data[n:]


def set_limit(which, value, failed, name):
    if value is None or value <= 0:
        return
    try:
        resource.setrlimit(which, (value, value))
    except (ValueError, OSError):
        try:
            soft, hard = resource.getrlimit(which)
            if hard != resource.RLIM_INFINITY and hard < value:
                resource.setrlimit(which, (hard, hard))
                return
        except (ValueError, OSError):
            pass
        failed.append(name)


def non_dumpable():
    # A non-dumpable process cannot be ptraced and its /proc/PID/fd is closed to same-uid children.
    try:
        import ctypes
        ctypes.CDLL(None).prctl(4, 0, 0, 0, 0)
        return True
    except Exception:
        return False


def reap_all(pid):
    status = None
    if PID1:
        # As init of the pid namespace: kill everything else in it, and reap until no child is left.
        while True:
            try:
                os.kill(-1, signal.SIGKILL)
            except OSError:
                pass
            try:
                p, s = os.waitpid(-1, 0)
            except ChildProcessError:
                break
            except InterruptedError:
                continue
            if p == pid:
                status = s
            else:
                STATE["strays"] += 1
    else:
        for fn in (lambda: os.killpg(pid, signal.SIGKILL), lambda: os.kill(pid, signal.SIGKILL)):
            try:
                fn()
            except OSError:
                pass
        try:
            _, status = os.waitpid(pid, 0)
        except ChildProcessError:
            pass
    return status


def fmt_exc(e, test_lines=None):
    import traceback
    msg = type(e).__name__
    text = str(e)
    if text:
        msg += ": " + text
    if test_lines is not None:
        line = None
        for fr in traceback.extract_tb(e.__traceback__):
            if fr.filename == "<test>" and fr.lineno and 0 < fr.lineno <= len(test_lines):
                line = test_lines[fr.lineno - 1].strip()
        if line:
            msg += " [at: " + line + "]"
    return msg[:1000]


def child_streams():
    sys.stdin = sys.__stdin__ = io.TextIOWrapper(io.BufferedReader(io.FileIO(0, "r", closefd=False)), encoding="utf-8", errors="replace")
    sys.stdout = sys.__stdout__ = io.TextIOWrapper(io.BufferedWriter(io.FileIO(1, "w", closefd=False)), encoding="utf-8", errors="backslashreplace")
    sys.stderr = sys.__stderr__ = io.TextIOWrapper(io.BufferedWriter(io.FileIO(2, "w", closefd=False)), encoding="utf-8", errors="backslashreplace", line_buffering=True)


def spawn(target, lim, stdin_bytes, with_status):
    r_out, w_out = os.pipe()
    r_err, w_err = os.pipe()
    r_st = w_st = None
    if with_status:
        r_st, w_st = os.pipe()
    if stdin_bytes is not None and hasattr(os, "memfd_create"):
        in_fd = os.memfd_create("stdin", 0)
        view = memoryview(stdin_bytes)
        while view:
            view = view[os.write(in_fd, view):]
        os.lseek(in_fd, 0, os.SEEK_SET)
    elif stdin_bytes:
        in_fd = os.open("/tmp", os.O_TMPFILE | os.O_RDWR, 0o600)
        os.write(in_fd, stdin_bytes)
        os.lseek(in_fd, 0, os.SEEK_SET)
    else:
        in_fd = os.open("/dev/null", os.O_RDONLY)
    pid = os.fork()
    if pid == 0:
        code = 70
        try:
            os.setpgid(0, 0)
            os.dup2(in_fd, 0)
            os.dup2(w_out, 1)
            os.dup2(w_err, 2)
            if with_status:
                os.dup2(w_st, 3)
                os.closerange(4, 65536)
            else:
                os.closerange(3, 65536)
            for which, key in ((resource.RLIMIT_AS, "as"), (resource.RLIMIT_CPU, "cpu"), (resource.RLIMIT_NPROC, "nproc"),
                               (resource.RLIMIT_FSIZE, "fsize"), (resource.RLIMIT_NOFILE, "nofile")):
                set_limit(which, lim.get(key), [], key)
            child_streams()
            code = target()
        except BaseException:
            code = 71
            try:
                import traceback
                traceback.print_exc()
            except BaseException:
                pass
        finally:
            for s in (sys.stdout, sys.stderr):
                try:
                    s.flush()
                except BaseException:
                    pass
            os._exit(code if isinstance(code, int) else 0)
    for fd in (in_fd, w_out, w_err, w_st):
        if fd is not None:
            os.close(fd)
    return pid, r_out, r_err, r_st


def supervise(pid, r_out, r_err, r_st, out_cap, st_cap, timeout_s, on_line):
    # Watch one child until it exits, runs past its deadline or writes too much; then kill all that is left.
    kinds = {r_out: "out", r_err: "err"}
    if r_st is not None:
        kinds[r_st] = "st"
    poller = select.poll()
    for fd in kinds:
        os.set_blocking(fd, False)
        poller.register(fd, select.POLLIN | select.POLLHUP | select.POLLERR)
    pidfd = None
    try:
        pidfd = os.pidfd_open(pid)
        poller.register(pidfd, select.POLLIN)
    except (AttributeError, OSError):
        pidfd = None
    state = {"out": bytearray(), "err": bytearray(), "st": bytearray(), "st_len": 0, "reason": None,
             "deadline": time.monotonic() + timeout_s, "open": set(kinds)}

    def take(fd, data):
        kind = kinds[fd]
        if kind == "out":
            room = out_cap - len(state["out"])
            state["out"] += data[:max(room, 0)]
            if len(data) > room:
                state["reason"] = "output-limit"
        elif kind == "err":
            state["err"] += data
            if len(state["err"]) > 8192:
                del state["err"][:len(state["err"]) - 4096]
        else:
            state["st_len"] += len(data)
            if state["st_len"] > st_cap:
                state["reason"] = "output-limit"
                return
            buf = state["st"]
            buf += data
            while True:
                k = buf.find(b"\n")
                if k < 0:
                    break
                line = bytes(buf[:k])
                del buf[:k + 1]
                if on_line(line):
                    state["deadline"] = time.monotonic() + timeout_s

    def drain(fd):
        while fd in state["open"]:
            try:
                data = os.read(fd, 65536)
            except BlockingIOError:
                return
            except OSError:
                data = b""
            if not data:
                state["open"].discard(fd)
                try:
                    poller.unregister(fd)
                except (KeyError, ValueError):
                    pass
                return
            take(fd, data)
            if state["reason"]:
                return

    status = None
    while state["reason"] is None:
        try:
            p, s = os.waitpid(pid, os.WNOHANG)
            if p == pid:
                status = s
        except ChildProcessError:
            status = 0
        if status is not None:
            break
        remaining = state["deadline"] - time.monotonic()
        if remaining <= 0:
            state["reason"] = "timeout"
            break
        wait = remaining if pidfd is not None else min(remaining, 0.02)
        for fd, _ in poller.poll(max(1, int(wait * 1000))):
            if fd in kinds:
                drain(fd)
                if state["reason"]:
                    break
    killed = reap_all(pid)
    if status is None:
        status = killed
    for fd in list(kinds):
        if state["reason"] is None:
            drain(fd)
        os.close(fd)
    if pidfd is not None:
        os.close(pidfd)
    if state["st"] and state["reason"] is None:
        on_line(bytes(state["st"]))
    return state["reason"], status, bytes(state["out"]), bytes(state["err"])


def describe_status(status):
    if status is None:
        return "killed"
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        try:
            return "signal " + signal.Signals(sig).name
        except ValueError:
            return "signal " + str(sig)
    return "exit " + str(os.WEXITSTATUS(status))


def exec_program(g, pre, prog):
    if pre is not None:
        exec(pre, g)
    exec(prog, g)


def run_stdio(job, lim, pre, prog):
    tests = job["tests"]
    timeout = job["timeout"]

    def target():
        g = {"__name__": "__main__", "__builtins__": __builtins__}
        try:
            exec_program(g, pre, prog)
        except SystemExit:
            # LiveCodeBench swallows SystemExit whatever its code: exit() after printing is a normal ending.
            return 0
        except BaseException:
            import traceback
            traceback.print_exc()
            return 1
        return 0

    for i, t in enumerate(tests):
        start = time.monotonic()
        # CPU seconds: a backstop behind the wall-clock deadline (a busy child normally hits the deadline first).
        cpu_lim = dict(lim, cpu=int(timeout) + 1)
        pid, r_out, r_err, _ = spawn(target, cpu_lim, t["input"].encode("utf-8", "surrogatepass"), False)
        reason, status, out, err = supervise(pid, r_out, r_err, None, t.get("cap") or job["outputCap"], 0, timeout, lambda line: False)
        ev = {"ev": "test", "i": i, "ms": round((time.monotonic() - start) * 1000, 2),
              "out": out.decode("utf-8", "replace"), "err": err[-2000:].decode("utf-8", "replace")}
        if reason is not None:
            ev["s"] = reason
        elif os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0:
            ev["s"] = "exit0"
        else:
            ev["s"] = "runtime-error"
            ev["exit"] = describe_status(status)
        emit(ev)
        verdict = sys.stdin.buffer.readline().strip()
        if verdict != b"c":
            break


def run_in_child(job, lim, pre, prog, units, call_inputs):
    # One child runs the program then every unit; it reports each unit on fd 3 as "<nonce> <i> <kind> <json>".
    stop = job.get("stop", True)
    nonce = NONCE
    test_lines = job.get("testSource", "").split("\n")

    def target():
        def report(i, kind, payload):
            os.write(3, (nonce + " " + str(i) + " " + kind + " " + json.dumps(payload) + "\n").encode())

        g = {"__name__": "solution", "__builtins__": __builtins__}
        try:
            exec_program(g, pre, prog)
        except BaseException as e:
            report(-1, "fail", fmt_exc(e))
            return 0
        if call_inputs is not None:
            fn_name = job["fn"]
            try:
                sol = g.get("Solution")
                fn = getattr(sol(), fn_name) if isinstance(sol, type) else g[fn_name]
            except BaseException as e:
                report(-1, "fail", "no function " + fn_name + " (" + fmt_exc(e) + ")")
                return 0
            report(-1, "ok", "")
            for i, inp in enumerate(call_inputs):
                try:
                    args = [json.loads(line) for line in inp.split("\n")] if isinstance(inp, str) else list(inp)
                    res = fn(*args)
                    if isinstance(res, tuple):
                        res = list(res)
                    text = json.dumps(res, allow_nan=False)
                    if len(text) > caps[i]:
                        # Longer than twice the expected JSON: cannot be equal, and must not flood the host.
                        report(i, "wrong", "returned a value of " + str(len(text)) + " characters (expected about " + str(caps[i] // 2) + ")")
                        if stop:
                            return 0
                        continue
                    report(i, "ret", text)
                except BaseException as e:
                    report(i, "fail", fmt_exc(e))
                    if stop:
                        return 0
            return 0
        report(-1, "ok", "")
        for i, code in enumerate(units):
            try:
                exec(code, g)
            except BaseException as e:
                report(i, "fail", fmt_exc(e, test_lines))
                if stop:
                    return 0
                continue
            report(i, "ok", "")
        return 0

    n = len(call_inputs) if call_inputs is not None else len(units)
    caps = [t.get("cap") or job["outputCap"] for t in job.get("tests") or []]
    results = {}
    loaded = {"ok": None, "msg": ""}
    prefix = (nonce + " ").encode()

    def on_line(line):
        if not line.startswith(prefix):
            return False
        parts = line[len(prefix):].split(b" ", 2)
        if len(parts) != 3:
            return False
        try:
            i = int(parts[0])
            kind = parts[1].decode()
            payload = json.loads(parts[2].decode("utf-8", "replace"))
        except ValueError:
            return False
        if i == -1:
            loaded["ok"] = kind == "ok"
            loaded["msg"] = payload
        elif 0 <= i < n and i not in results:
            results[i] = (kind, payload)
        else:
            return False
        return True

    start = time.monotonic()
    cpu_lim = dict(lim, cpu=int((n + 1) * job["timeout"]) + 1)
    pid, r_out, r_err, r_st = spawn(target, cpu_lim, None, True)
    reason, status, out, err = supervise(pid, r_out, r_err, r_st, job["outputCap"], job["statusCap"], job["timeout"], on_line)
    how = reason or ("exited early (" + describe_status(status) + ")")
    emit({"ev": "load", "ok": bool(loaded["ok"]), "msg": loaded["msg"] if loaded["ok"] is not None else how,
          "ms": round((time.monotonic() - start) * 1000, 2),
          "out": out[:2000].decode("utf-8", "replace"), "err": err[-2000:].decode("utf-8", "replace")})
    if not loaded["ok"]:
        return
    cut = False
    for i in range(n):
        if i in results:
            kind, payload = results[i]
            emit({"ev": "test", "i": i, "s": kind, ("ret" if kind == "ret" else "msg"): payload})
            if kind in ("fail", "wrong") and stop:
                break
        else:
            emit({"ev": "test", "i": i, "s": "not-run" if cut else (reason or "exited-early"), "msg": how})
            cut = True
            if stop:
                break


def build_units(job):
    # Split test code into units: each top-level assert, check(...) call or block containing an assert is one test,
    # carrying the setup statements that precede it.
    import ast
    src = job["testSource"]
    tree = ast.parse(src, "<test>")
    checkers = set()
    for s in tree.body:
        if isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef)) and any(isinstance(n, ast.Assert) for n in ast.walk(s)):
            checkers.add(s.name)

    def calls_checker(s):
        return (isinstance(s, ast.Expr) and isinstance(s.value, ast.Call) and isinstance(s.value.func, ast.Name)
                and s.value.func.id in checkers)

    entry = job.get("entry")
    body = list(tree.body)
    if entry and "check" in checkers and not any(calls_checker(s) for s in body):
        call = ast.parse("check(" + entry + ")").body[0]
        last = max([getattr(s, "end_lineno", 0) or 0 for s in body] + [0])
        ast.increment_lineno(call, last + 1)
        body.append(call)
    units, setup = [], []
    for s in body:
        is_test = isinstance(s, ast.Assert) or calls_checker(s) or (
            not isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
            and any(isinstance(n, ast.Assert) for n in ast.walk(s)))
        if is_test:
            units.append(compile(ast.Module(body=setup + [s], type_ignores=[]), "<test>", "exec"))
            setup = []
        else:
            setup.append(s)
    return units


def wipe(root):
    # Remove everything a job left in a scratch dir (restoring permissions it may have taken away); count entries.
    count = 0
    try:
        os.chmod(root, SCRATCH_MODES.get(root, 0o755))
    except OSError:
        pass
    stack = [root]
    dirs = []
    while stack:
        d = stack.pop()
        try:
            names = os.listdir(d)
        except OSError:
            continue
        for name in names:
            full = os.path.join(d, name)
            count += 1
            try:
                st = os.lstat(full)
            except OSError:
                continue
            if (st.st_mode & 0o170000) == 0o040000:
                try:
                    os.chmod(full, 0o700)
                except OSError:
                    pass
                stack.append(full)
                dirs.append(full)
            else:
                try:
                    os.unlink(full)
                except OSError:
                    pass
    for d in reversed(dirs):
        try:
            os.rmdir(d)
        except OSError:
            pass
    return count


def ipc_objects():
    n = 0
    for name in ("shm", "msg", "sem"):
        try:
            with open("/proc/sysvipc/" + name) as f:
                n += max(0, len(f.read().strip().split("\n")) - 1)
        except OSError:
            pass
    try:
        n += len(os.listdir("/dev/mqueue"))
    except OSError:
        pass
    return n


def key_users():
    try:
        with open("/proc/key-users") as f:
            return f.read()
    except OSError:
        return ""


SCRATCH_MODES = {}


def after_job(keys0):
    # Anything the job could leave behind that the next job would see: processes, files, IPC objects, keys.
    reasons = []
    if STATE["strays"]:
        reasons.append(str(STATE["strays"]) + " leftover processes")
        STATE["strays"] = 0
    files = sum(wipe(d) for d in SCRATCH)
    if files > 1000:
        reasons.append(str(files) + " files")
    if ipc_objects():
        reasons.append("IPC objects")
    if key_users() != keys0:
        reasons.append("kernel keys")
    return reasons


def run_job(job, cache):
    lim = job["limits"]
    start = time.monotonic()
    try:
        pre = None
        if job.get("preamble"):
            pre = cache.get(job["preamble"])
            if pre is None:
                pre = compile(job["preamble"], "<preamble>", "exec")
                exec(pre, {"__name__": "preamble"})  # trusted: imports once here so children start warm
                cache.clear()
                cache[job["preamble"]] = pre
        prog = compile(job["program"], "<solution>", "exec")
    except (SyntaxError, ValueError, MemoryError, RecursionError, OverflowError) as e:
        emit({"ev": "compile", "ok": False, "msg": fmt_exc(e)})
        return start
    emit({"ev": "compile", "ok": True})
    mode = job["mode"]
    if mode == "stdio":
        run_stdio(job, lim, pre, prog)
    elif mode == "call":
        run_in_child(job, lim, pre, prog, None, [t["input"] for t in job["tests"]])
    else:
        try:
            units = build_units(job)
        except SyntaxError as e:
            emit({"ev": "bad-tests", "msg": fmt_exc(e)})
            units = None
        if units is not None and not units:
            emit({"ev": "bad-tests", "msg": "no assert statement or check(...) call found in the test code"})
        elif units:
            emit({"ev": "units", "n": len(units)})
            run_in_child(job, lim, pre, prog, units, None)
    return start


def main():
    uid = int(SCRATCH.pop(0))
    if uid >= 0 and os.getuid() == 0:
        # bwrap-root level: bwrap left us CAP_SETUID/CAP_SETGID only to get here; switching uid drops them too.
        os.setgroups([])
        os.setgid(uid)
        os.setuid(uid)
    try:
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    except (ValueError, OSError):
        pass
    dumpable = not non_dumpable()
    if not PID1:
        # Unsandboxed: nothing else ends the runner when the host dies.
        try:
            import ctypes
            ctypes.CDLL(None).prctl(1, signal.SIGKILL, 0, 0, 0)
        except Exception:
            pass
    for d in SCRATCH:
        try:
            SCRATCH_MODES[d] = os.stat(d).st_mode & 0o7777
        except OSError:
            pass
    keys0 = key_users()
    cache = {}
    jobs = 0
    while True:
        line = sys.stdin.buffer.readline()
        if not line:
            return
        if not line.strip():
            continue
        job = json.loads(line)
        start = run_job(job, cache)
        jobs += 1
        recycle = after_job(keys0)
        emit({"ev": "done", "pid1": PID1, "uid": os.getuid(), "dumpable": dumpable, "jobs": jobs, "recycle": recycle,
              "ms": round((time.monotonic() - start) * 1000, 2)})
        if recycle or job.get("last"):
            return


if __name__ == "__main__":
    main()

"""The program that runs inside the code-reward sandbox (Python 3.8+, standard library only).

sandbox.ts reads this file at run time and starts it as `python3 -s -B -c <this source> UID SCRATCH...`, so the
sandbox needs no view of the package directory. The runner is trusted and never executes model code itself.

Three kinds of process (see docs/sandbox.md, "The isolation model"):
- the runner (pid 1 of the sandbox): reads jobs, holds the test code, supervises, cleans up;
- the factory: forked from the runner at start-up, before any job is read, so its memory holds no test code, input or
  program of any job. It only forks candidates, on request, with the file descriptors it is handed; it never reads a
  job's data itself, so every candidate starts from the same clean memory;
- candidates: run the model's program (per stdin/stdout test, or once per job) and report what it printed or
  returned. Functional tests run in a separate tester process forked from the runner, which calls the candidate's
  functions over a socket and gets back plain data only (ints, strs, lists, ...; other objects stay in the candidate
  as opaque references that cannot compare equal to anything): the asserts and the pass reports live outside the
  program's process, so nothing the program does to its own interpreter can forge a pass.

Protocol: the host writes one JSON line per job on stdin; the runner writes one JSON event per line on stdout and, in
stdio mode, reads one verdict line ("c" continue / "s" stop) from the host after each test. After each job it kills
every leftover process and wipes its scratch dirs (argv[2:]); a job that left anything it cannot undo (stray
processes, SysV IPC, message queues, keys, many files, files it could not remove, a tampered runner or factory) makes
the runner exit so the next job gets a fresh sandbox. argv[1] is the uid to drop to when started as root
(bwrap-root), or -1.

Its functions are unit-tested in test/reward/python/test_sandbox_runner.py (run by test/reward/python.test.ts).
"""
import os, sys, io, json, time, select, signal, resource, socket, array, builtins, types, collections

PID1 = os.getpid() == 1
SCRATCH = sys.argv[1:]
STATE = {"strays": 0, "factory": None, "warm": None, "snapshot": None, "ready": None}


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


# ---- plain values across the process boundary ----------------------------------------------------------------------
# Only exact built-in types cross: None, bool, str as JSON; the rest tagged ({"int": hex}, {"float": repr}, {"tuple":
# [...]}, ...). Anything else (a class instance, a function, an int subclass with its own __eq__) crosses as an opaque
# {"ref": n} when `refs` is given, else it is refused. Decoding builds fresh built-in objects, so whatever the program
# returned, the tester only ever compares genuine ints, strs and lists.

MISSING = object()
PREAMBLES = {}  # in the factory (and so in every candidate): preamble text -> code object
STOP = object()


def encode(x, refs=None, depth=0):
    # Subclasses of the built-in types (Counter, OrderedDict, defaultdict, namedtuple, IntEnum, ...) cross as their
    # base type's value, read with the base type's own methods: their own __eq__ never reaches the tester.
    t = type(x)
    if x is None or t is bool:
        return x
    if isinstance(x, str):
        return x if t is str else str.__str__(x)
    if isinstance(x, int):
        x = int.__index__(x)
        return x if -(1 << 53) < x < (1 << 53) else {"int": format(x, "x")}
    if isinstance(x, float):
        return {"float": float.__repr__(x)}
    if depth < 100:
        if isinstance(x, list):
            return [encode(v, refs, depth + 1) for v in list.__iter__(x)]
        for base in (tuple, set, frozenset):
            if isinstance(x, base):
                return {base.__name__: [encode(v, refs, depth + 1) for v in base.__iter__(x)]}
        if isinstance(x, dict):
            return {"dict": [[encode(k, refs, depth + 1), encode(v, refs, depth + 1)] for k, v in dict.items(x)]}
        if t is collections.deque:
            return {"deque": [encode(v, refs, depth + 1) for v in x]}
    if isinstance(x, bytes):
        return {"bytes": bytes.hex(x)}
    if isinstance(x, complex):
        return {"complex": [float.__repr__(x.real), float.__repr__(x.imag)]}
    if (isinstance(x, type) or isinstance(x, types.BuiltinFunctionType)) and getattr(builtins, getattr(
            x, "__name__", ""), None) is x:
        return {"builtin": x.__name__}  # int, str, len, ...: the receiver uses its own
    if refs is None:
        raise TypeError("a " + t.__name__ + " is not plain data (int, float, str, bool, None, list, tuple, dict, set)")
    return {"ref": refs(x)}


def decode(v, proxy=None, depth=0):
    t = type(v)
    if v is None or t is bool or t is str or t is int:
        return v
    if depth > 200:
        raise ValueError("value nested too deeply")
    if t is list:
        return [decode(x, proxy, depth + 1) for x in v]
    if t is dict and len(v) == 1:
        (tag, a), = v.items()
        ta = type(a)
        if tag == "int" and ta is str:
            return int(a, 16)
        if tag == "float" and ta is str:
            return float(a)
        if tag in ("tuple", "set", "frozenset", "deque") and ta is list:
            items = [decode(x, proxy, depth + 1) for x in a]
            return {"tuple": tuple, "set": set, "frozenset": frozenset, "deque": collections.deque}[tag](items)
        if tag == "dict" and ta is list:
            return {decode(k, proxy, depth + 1): decode(x, proxy, depth + 1) for k, x in a}
        if tag == "bytes" and ta is str:
            return bytes.fromhex(a)
        if tag == "complex" and ta is list and len(a) == 2:
            return complex(float(a[0]), float(a[1]))
        if tag == "builtin" and ta is str and isinstance(getattr(builtins, a, None), (type, types.BuiltinFunctionType)):
            return getattr(builtins, a)
        if tag == "ref" and ta is int and proxy is not None:
            return proxy(a)
    raise ValueError("not a plain value")


def write_all(fd, data):
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


class Lines:
    """Newline-framed JSON over a file descriptor; a line longer than `cap` is refused."""

    def __init__(self, fd, cap):
        self.fd, self.cap, self.buf, self.scan = fd, cap, bytearray(), 0

    def get(self):
        while True:
            k = self.buf.find(b"\n", self.scan)
            if k >= 0:
                line = bytes(self.buf[:k])
                del self.buf[:k + 1]
                self.scan = 0
                return line
            self.scan = len(self.buf)
            if len(self.buf) > self.cap:
                raise ProgramGone("the program's process sent more than the output cap at once")
            data = os.read(self.fd, 1 << 16)
            if not data:
                return None
            self.buf += data

    def put(self, obj):
        write_all(self.fd, (json.dumps(obj) + "\n").encode())


class ProgramGone(BaseException):
    """The candidate's process ended or broke the protocol (a BaseException, so test code cannot swallow it)."""


def remote_error(name, msg):
    # An exception the program raised, rebuilt as the built-in exception of that name (a test may expect it).
    cls = getattr(builtins, str(name), None)
    # StopIteration from a call would end the test's own iteration early (all(map(...)) would be True): never rebuilt.
    if isinstance(cls, type) and issubclass(cls, Exception) and not issubclass(cls, (StopIteration, StopAsyncIteration)):
        try:
            return cls(str(msg))
        except Exception:
            pass
    return RuntimeError(str(name) + ": " + str(msg))


def to_program(x):
    def ref(o):
        if isinstance(o, Remote):
            return object.__getattribute__(o, "_ref")
        raise TypeError("cannot pass a " + type(o).__name__ + " from the test to the program (only plain data)")

    return encode(x, ref)


def checked(v, t):
    if type(v) is not t:
        raise TypeError("the program answered a " + type(v).__name__ + " where Python needs a " + t.__name__)
    return v


class Remote:
    """An object that stays in the candidate's process. The tester can call it, read and set its attributes and items,
    iterate it, take its len/bool/str/int/float; it is equal only to itself (its __eq__ is never the program's)."""

    __slots__ = ("_link", "_ref", "__weakref__")

    def __init__(self, link, ref):
        object.__setattr__(self, "_link", link)
        object.__setattr__(self, "_ref", ref)

    def _ask(self, op, **kw):
        kw["op"] = op
        kw["ref"] = object.__getattribute__(self, "_ref")
        return object.__getattribute__(self, "_link").ask(kw)

    def __call__(self, *args, **kwargs):
        return self._ask("call", args=[to_program(a) for a in args], kw=[[k, to_program(v)] for k, v in kwargs.items()])

    def __getattr__(self, name):
        return self._ask("getattr", name=name)

    def __setattr__(self, name, value):
        self._ask("setattr", name=name, value=to_program(value))

    def __getitem__(self, key):
        return self._ask("getitem", key=to_program(key))

    def __setitem__(self, key, value):
        self._ask("setitem", key=to_program(key), value=to_program(value))

    def __len__(self):
        return checked(self._ask("len"), int)

    def __bool__(self):
        return checked(self._ask("bool"), bool)

    def __iter__(self):
        it = self._ask("iter")
        return it if isinstance(it, Remote) else iter(it)

    def __next__(self):
        v = self._ask("next")
        if v is STOP:
            raise StopIteration
        return v

    def __str__(self):
        return checked(self._ask("str"), str)

    def __repr__(self):
        return checked(self._ask("repr"), str)

    def __int__(self):
        return checked(self._ask("int"), int)

    def __index__(self):
        return checked(self._ask("int"), int)

    def __float__(self):
        return checked(self._ask("float"), float)

    def __eq__(self, other):
        return self is other

    def __ne__(self, other):
        return self is not other

    __hash__ = object.__hash__


class Link:
    """The tester's end of the socket to the candidate: a request out, one reply back."""

    def __init__(self, fd, cap):
        self.lines = Lines(fd, cap)
        self.proxies = {}
        self.gone = None

    def proxy(self, ref):
        p = self.proxies.get(ref)
        if p is None:
            p = self.proxies[ref] = Remote(self, ref)
        return p

    def ask(self, req):
        if self.gone:
            raise ProgramGone(self.gone)
        try:
            self.lines.put(req)
            line = self.lines.get()
        except OSError as e:
            line = None
            self.gone = "the program's process is gone (" + str(e) + ")"
        except ProgramGone as e:
            line = None
            self.gone = str(e)
        if line is None:
            self.gone = self.gone or "the program's process ended during the test"
            raise ProgramGone(self.gone)
        try:
            r = json.loads(line)
            if "v" in r:
                return decode(r["v"], self.proxy)
            if "stop" in r:
                return STOP
            if "missing" in r:
                return MISSING
            name, msg = r["exc"]
        except (ValueError, KeyError, TypeError, RecursionError, MemoryError):
            self.gone = "the program's process broke the protocol"
            raise ProgramGone(self.gone)
        raise remote_error(name, msg)


def test_namespace(link, pre_ns, entry=None):
    """Globals of the test code: its own definitions, then the tester's builtins (except the entry point, which may be
    named like one: MBPP's `sum`) and the modules of the preamble, then the program's names (fetched from the
    candidate; functions and objects come back as Remote), then the rest of the preamble."""

    class Names(dict):
        def __missing__(self, name):
            if name != entry and hasattr(builtins, name):
                raise KeyError(name)
            local = pre_ns.get(name, MISSING)
            if isinstance(local, types.ModuleType):
                return local
            got = link.ask({"op": "get", "name": name})
            if got is not MISSING:
                if isinstance(got, Remote):
                    self[name] = got
                return got
            if local is not MISSING:
                return local
            raise KeyError(name)

    g = Names()
    g["__name__"] = "solution"
    g["__builtins__"] = builtins
    return g


def tester_main(job, pre_ns, units, test_lines, link_fd):
    # In the tester process: wait for the program to load, then run each unit, reporting "<i> <kind> <json>" on fd 3.
    def report(i, kind, payload):
        write_all(3, (str(i) + " " + kind + " " + json.dumps(payload) + "\n").encode())

    link = Link(link_fd, job["outputCap"])
    try:
        line = link.lines.get()
        hello = json.loads(line) if line is not None else None
    except (ValueError, OSError, ProgramGone):
        hello = None
    if not isinstance(hello, dict):
        report(-1, "fail", "the program's process ended while loading")
        return 0
    if hello.get("loaded") is not True:
        report(-1, "fail", str(hello.get("msg"))[:1000])
        return 0
    report(-1, "ok", "")
    g = test_namespace(link, pre_ns or {}, job.get("entry"))
    stop = job.get("stop", True)
    for i, code in enumerate(units):
        try:
            exec(code, g)
        except ProgramGone as e:
            # Never a pass, whatever the test code did with it.
            link.gone = link.gone or str(e) or "the program's process broke the protocol"
        except BaseException as e:
            if not link.gone:
                report(i, "fail", fmt_exc(e, test_lines))
                if stop:
                    return 0
                continue
        if link.gone:
            report(i, "gone", link.gone)
            return 0
        report(i, "ok", "")
    return 0


def serve(g, fd, cap):
    # In the candidate: answer the tester's requests until it hangs up.
    objs, ids = {}, {}

    def ref(x):
        k = ids.get(id(x))
        if k is None:
            k = ids[id(x)] = len(objs) + 1
            objs[k] = x
        return k

    lines = Lines(fd, cap)
    while True:
        line = lines.get()
        if line is None:
            return
        try:
            req = json.loads(line)
            op = req["op"]
            if op == "get":
                name = req["name"]
                out = {"v": encode(g[name], ref)} if name in g else {"missing": 1}
            else:
                obj = objs[req["ref"]]
                dec = lambda v: decode(v, objs.__getitem__)
                if op == "call":
                    res = obj(*[dec(a) for a in req["args"]], **{k: dec(v) for k, v in req["kw"]})
                elif op == "getattr":
                    res = getattr(obj, req["name"])
                elif op == "setattr":
                    res = setattr(obj, req["name"], dec(req["value"]))
                elif op == "getitem":
                    res = obj[dec(req["key"])]
                elif op == "setitem":
                    obj[dec(req["key"])] = dec(req["value"])
                    res = None
                elif op == "next":
                    try:
                        res = next(obj)
                    except StopIteration:
                        lines.put({"stop": 1})
                        continue
                else:
                    res = {"len": len, "bool": bool, "iter": iter, "str": str, "repr": repr, "int": int,
                           "float": float}[op](obj)
                out = {"v": encode(res, ref)}
        except BaseException as e:
            try:
                msg = str(e)[:1000]
            except BaseException:
                msg = ""
            out = {"exc": [type(e).__name__, msg]}
        lines.put(out)


# ---- the candidate process ------------------------------------------------------------------------------------------

def read_fd(fd):
    chunks = []
    while True:
        data = os.read(fd, 1 << 16)
        if not data:
            return b"".join(chunks)
        chunks.append(data)


def load_program(spec, name):
    g = {"__name__": name, "__builtins__": builtins}
    if spec.get("preamble"):
        code = PREAMBLES.get(spec["preamble"])  # compiled by the factory when it warmed up
        exec(code if code is not None else compile(spec["preamble"], "<preamble>", "exec"), g)
    exec(compile(spec["program"], "<solution>", "exec"), g)
    return g


def candidate_run(spec):
    mode = spec["mode"]
    if mode == "stdio":
        try:
            load_program(spec, "__main__")
        except SystemExit:
            # LiveCodeBench swallows SystemExit whatever its code: exit() after printing is a normal ending.
            return 0
        except BaseException:
            import traceback
            traceback.print_exc()
            return 1
        return 0
    if mode == "functional":
        try:
            g = load_program(spec, "solution")
            hello = {"loaded": True}
        except BaseException as e:
            g, hello = None, {"loaded": False, "msg": fmt_exc(e)}
        write_all(3, (json.dumps(hello) + "\n").encode())
        if g is not None:
            serve(g, 3, spec["outputCap"])
        return 0

    # call: load once, call the function with each input, report "<i> <kind> <json>" on fd 3.
    def report(i, kind, payload):
        write_all(3, (str(i) + " " + kind + " " + json.dumps(payload) + "\n").encode())

    stop = spec.get("stop", True)
    try:
        g = load_program(spec, "solution")
    except BaseException as e:
        report(-1, "fail", fmt_exc(e))
        return 0
    fn_name = spec["fn"]
    try:
        sol = g.get("Solution")
        fn = getattr(sol(), fn_name) if isinstance(sol, type) else g[fn_name]
    except BaseException as e:
        report(-1, "fail", "no function " + fn_name + " (" + fmt_exc(e) + ")")
        return 0
    report(-1, "ok", "")
    cap = spec["outputCap"]
    for i, inp in enumerate(spec["inputs"]):
        try:
            args = [json.loads(line) for line in inp.split("\n")] if isinstance(inp, str) else list(inp)
            res = fn(*args)
            value = encode(res)
            text = json.dumps(value)
            if len(text) > cap:
                report(i, "wrong", "returned a value of " + str(len(text)) + " characters (more than outputBytes)")
                if stop:
                    return 0
                continue
            write_all(3, (str(i) + " ret " + text + "\n").encode())
        except BaseException as e:
            report(i, "fail", fmt_exc(e))
            if stop:
                return 0
    return 0


def candidate_main(fds):
    # First code of a candidate, forked by the factory: its descriptors, its limits, then the program.
    code = 70
    try:
        os.setpgid(0, 0)
        if len(fds) == 1:
            # Forked ahead of time (between jobs): wait for this job's descriptors from the runner.
            ctl = socket.socket(fileno=fds[0])
            _, fds = recv_fds(ctl, 16, 8)
            ctl.close()
        spec_fd, in_fd, out_fd, err_fd = fds[:4]
        spec = json.loads(read_fd(spec_fd))
        os.dup2(in_fd, 0)
        os.dup2(out_fd, 1)
        os.dup2(err_fd, 2)
        if len(fds) > 4:
            os.dup2(fds[4], 3)
            os.closerange(4, 65536)
        else:
            os.closerange(3, 65536)
        lim = spec["limits"]
        for which, key in ((resource.RLIMIT_AS, "as"), (resource.RLIMIT_CPU, "cpu"), (resource.RLIMIT_NPROC, "nproc"),
                           (resource.RLIMIT_FSIZE, "fsize"), (resource.RLIMIT_NOFILE, "nofile")):
            set_limit(which, lim.get(key), [], key)
        # Dumpable again (the runner and the factory stay not): the runner reads the memory use of the candidate and
        # its children in /proc/PID/smaps_rollup. Nothing it could read through it is anyone else's.
        prctl(4, 1)
        child_streams()
        code = candidate_run(spec)
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


# ---- the factory ----------------------------------------------------------------------------------------------------

class FactoryError(Exception):
    pass


def send_fds(sock, msg, fds):
    sock.sendmsg([msg], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", fds))])


def recv_fds(sock, size, maxfds):
    fds = array.array("i")
    msg, anc, _, _ = sock.recvmsg(size, socket.CMSG_LEN(maxfds * fds.itemsize))
    for level, kind, data in anc:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            fds.frombytes(data[:len(data) - (len(data) % fds.itemsize)])
    return msg, list(fds)


def fork_candidate(fds):
    # Double fork: the intermediate exits at once, so the candidate is reparented to the runner (init of the pid
    # namespace, or a subreaper unsandboxed), which waits for it, times it and kills it.
    r, w = os.pipe()
    mid = os.fork()
    if mid == 0:
        code = 0
        try:
            os.close(r)
            pid = os.fork()
            if pid == 0:
                os.close(w)
                candidate_main(fds)
            os.write(w, str(pid).encode())
        except BaseException:
            code = 70
        os._exit(code)
    os.close(w)
    data = read_fd(r)
    os.close(r)
    os.waitpid(mid, 0)
    return int(data) if data else -1


def factory_loop(sock):
    while True:
        try:
            msg, fds = recv_fds(sock, 1 << 16, 8)
        except OSError:
            return
        if not msg:
            return
        if msg[:1] == b"w":
            # Warm up: import what the preamble imports, so candidates start with it loaded.
            try:
                text = msg[1:].decode("utf-8", "surrogatepass")
                code = compile(text, "<preamble>", "exec")
                exec(code, {"__name__": "preamble"})
                PREAMBLES.clear()
                PREAMBLES[text] = code
            except BaseException:
                pass
            reply = b"ok"
        elif msg[:1] == b"p":
            reply = b"ok"
        else:
            try:
                reply = str(fork_candidate(fds)).encode()
            except BaseException:
                reply = b"-1"
        for fd in fds:
            os.close(fd)
        sock.send(reply)


def prctl(option, arg):
    try:
        import ctypes
        return ctypes.CDLL(None).prctl(option, arg, 0, 0, 0) == 0
    except Exception:
        return False


def start_factory():
    if not PID1:
        prctl(36, 1)  # PR_SET_CHILD_SUBREAPER: orphaned candidates come back to the runner
    a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    pid = os.fork()
    if pid == 0:
        code = 0
        try:
            null = os.open("/dev/null", os.O_RDWR)
            for fd in (0, 1, 2):
                os.dup2(null, fd)
            keep = b.fileno()
            os.closerange(3, keep)
            os.closerange(keep + 1, 65536)
            factory_loop(b)
        except BaseException:
            code = 70
        os._exit(code)
    b.close()
    a.settimeout(20)
    STATE["factory"] = {"pid": pid, "sock": a}
    STATE["warm"] = None
    STATE["snapshot"] = snapshot(os.getpid())
    return STATE["factory"]


def factory_request(msg, fds):
    collect_ready()
    f = STATE["factory"] or start_factory()
    try:
        os.kill(f["pid"], signal.SIGCONT)
        send_fds(f["sock"], msg, fds)
        reply = f["sock"].recv(64)
    except OSError as e:
        raise FactoryError("the sandbox's process factory is gone (" + str(e) + ")")
    if not reply or reply == b"-1":
        raise FactoryError("the sandbox's process factory could not start the program")
    return reply


def warm(preamble):
    if preamble and STATE["warm"] != preamble and len(preamble) < 60000:
        factory_request(b"w" + preamble.encode("utf-8", "surrogatepass"), [])
        STATE["warm"] = preamble


def data_fd(data):
    if data and hasattr(os, "memfd_create"):
        fd = os.memfd_create("data", 0)
    elif data:
        fd = os.open("/tmp", os.O_TMPFILE | os.O_RDWR, 0o600)
    else:
        return os.open("/dev/null", os.O_RDONLY)
    write_all(fd, data)
    os.lseek(fd, 0, os.SEEK_SET)
    return fd


def spawn_candidate(spec_bytes, stdin_bytes, w_out, w_err, extra=None):
    """Have the factory fork a candidate for `spec` (JSON bytes: mode, program, preamble, limits, ...). Returns its pid."""
    spec_fd = data_fd(spec_bytes)
    in_fd = data_fd(stdin_bytes)
    try:
        fds = [spec_fd, in_fd, w_out, w_err] + ([extra] if extra is not None else [])
        collect_ready()
        ready, STATE["ready"] = STATE["ready"], None
        if ready is not None:
            try:
                send_fds(ready["sock"], b"go", fds)
                return ready["pid"]
            except OSError:
                pass
            finally:
                ready["sock"].close()
        return int(factory_request(b"f", fds))
    finally:
        os.close(spec_fd)
        os.close(in_fd)


def prefork():
    """Between jobs, when no program runs: have the factory fork the next job's first candidate now; it waits for its
    descriptors (spawn_candidate sends them), so a job does not wait for the factory."""
    if STATE.get("ready") is not None or STATE["factory"] is None:
        return
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    f = STATE["factory"]
    try:
        # The reply (its pid) is collected when it is needed: the fork overlaps with reading the next job.
        os.kill(f["pid"], signal.SIGCONT)
        send_fds(f["sock"], b"f", [theirs.fileno()])
        STATE["ready"] = {"pid": None, "sock": ours}
    except OSError:
        ours.close()
    finally:
        theirs.close()


def collect_ready():
    r = STATE["ready"]
    if r is None or r["pid"] is not None:
        return
    try:
        reply = STATE["factory"]["sock"].recv(64)
        r["pid"] = int(reply) if reply and reply != b"-1" else None
    except (OSError, ValueError, TypeError):
        r["pid"] = None
    if r["pid"] is None:
        r["sock"].close()
        STATE["ready"] = None


def snapshot(pid):
    # What another process of the same uid could change on the runner or the factory and so hurt later jobs.
    lims = {}
    for name in sorted(dir(resource)):
        if name.startswith("RLIMIT_"):
            try:
                lims[name] = resource.prlimit(pid, getattr(resource, name))
            except (OSError, ValueError):
                pass
    try:
        nice = os.getpriority(os.PRIO_PROCESS, pid)
    except OSError:
        nice = None
    try:
        cpus = sorted(os.sched_getaffinity(pid))
    except OSError:
        cpus = None
    return lims, nice, cpus


def proc_state(pid):
    try:
        with open("/proc/" + str(pid) + "/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return None


def factory_problems():
    f = STATE["factory"]
    if f is None:
        return []
    state = proc_state(f["pid"])
    if state is None or state in ("Z", "X"):
        return ["the process factory died"]
    if state in ("T", "t"):
        return ["the process factory was stopped"]
    if snapshot(f["pid"]) != STATE["snapshot"]:
        return ["the process factory's limits or priority were changed"]
    if sigkill_pending(f["pid"]):
        return ["the process factory was killed"]  # not a zombie yet
    return []


def sigkill_pending(pid):
    try:
        with open("/proc/" + str(pid) + "/status") as f:
            for line in f:
                if line.startswith(("SigPnd:", "ShdPnd:")) and int(line.split()[1], 16) & (1 << (signal.SIGKILL - 1)):
                    return True
    except (OSError, ValueError, IndexError):
        return True
    return False


# ---- killing, memory ------------------------------------------------------------------------------------------------

def kill_all(pids):
    """Kill the given processes and everything else the job left; reap; return {pid: wait status}."""
    statuses = {}
    f = STATE["factory"]
    fpid = f["pid"] if f else None
    if PID1:
        # As init of the pid namespace: kill every process but this one and the factory, reap until none is left.
        keep = {os.getpid(), fpid}
        seen = set()
        deadline = time.monotonic() + 2.0
        while True:
            others = [int(d) for d in os.listdir("/proc") if d.isdigit() and int(d) not in keep]
            for p in others:
                try:
                    os.kill(p, signal.SIGKILL)
                except OSError:
                    pass
            seen.update(others)
            reaped = False
            for p in others:
                try:
                    statuses[p] = os.waitpid(p, 0)[1]  # killed: returns at once; not ours yet: ECHILD
                    reaped = True
                except ChildProcessError:
                    pass
                except InterruptedError:
                    pass
            reaped = reap_some(statuses) or reaped
            if not others:
                break
            if fpid in keep and time.monotonic() > deadline:
                keep.discard(fpid)  # something of the factory's will not go: it goes too (and the sandbox is recycled)
            if not reaped:
                time.sleep(0.001)
        STATE["strays"] += len(seen - set(pids) - {fpid})
    else:
        for pid in pids:
            for fn in (lambda: os.killpg(pid, signal.SIGKILL), lambda: os.kill(pid, signal.SIGKILL)):
                try:
                    fn()
                except OSError:
                    pass
        for pid in pids:
            try:
                statuses[pid] = os.waitpid(pid, 0)[1]
            except ChildProcessError:
                pass
        reap_some(statuses)
    if fpid is not None and fpid in statuses:
        STATE["factory"] = None
        STATE["factory_lost"] = True
    return statuses


def reap_some(statuses):
    reaped = False
    while True:
        try:
            p, s = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return reaped
        except InterruptedError:
            continue
        if p == 0:
            return reaped
        statuses[p] = s
        reaped = True


def memory_used(exclude):
    """Proportional memory of every process of the job (pid 1 only), bytes; 0 while there is at most one (RLIMIT_AS
    bounds a single process)."""
    pids = [d for d in os.listdir("/proc") if d.isdigit() and int(d) not in exclude]
    if len(pids) < 2:
        return 0
    total = 0
    for d in pids:
        try:
            with open("/proc/" + d + "/smaps_rollup", "rb") as f:
                for line in f:
                    if line.startswith(b"Pss:"):
                        total += int(line.split()[1]) * 1024
                        break
        except (OSError, ValueError):
            pass
    return total


def supervise(pid, r_out, r_err, r_st, out_cap, st_cap, timeout_s, on_line, others=(), mem=None, exclude=()):
    # Watch one child until it exits, runs past its deadline, writes too much or (with `mem`) the job's processes
    # together hold more than `mem` bytes; then kill all that is left.
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
    watch_mem = bool(mem) and PID1
    f = STATE["factory"]
    skip = {os.getpid(), f["pid"] if f else -1, *exclude}
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
        if watch_mem and memory_used(skip) > mem:
            state["reason"] = "memory-limit"
            break
        wait = remaining if pidfd is not None and not watch_mem else min(remaining, 0.02)
        for fd, _ in poller.poll(max(1, int(wait * 1000))):
            if fd in kinds:
                drain(fd)
                if state["reason"]:
                    break
    killed = kill_all([pid, *others]).get(pid)
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


def candidate_spec(job, lim, mode, cpu, **extra):
    spec = {"mode": mode, "program": job["program"], "preamble": job.get("preamble") or "",
            "limits": dict(lim, cpu=cpu), "outputCap": job["outputCap"], "stop": job.get("stop", True)}
    spec.update(extra)
    return json.dumps(spec).encode("utf-8", "surrogatepass")


def run_stdio(job, lim):
    tests = job["tests"]
    timeout = job["timeout"]
    # CPU seconds: a backstop behind the wall-clock deadline (a busy child normally hits the deadline first).
    spec = candidate_spec(job, lim, "stdio", int(timeout) + 1)
    for i, t in enumerate(tests):
        start = time.monotonic()
        r_out, w_out = os.pipe()
        r_err, w_err = os.pipe()
        try:
            pid = spawn_candidate(spec, t["input"].encode("utf-8", "surrogatepass"), w_out, w_err)
        except BaseException:
            os.close(r_out)
            os.close(r_err)
            raise
        finally:
            os.close(w_out)
            os.close(w_err)
        # One cap for every test, never derived from the expected output (which never enters the sandbox).
        reason, status, out, err = supervise(pid, r_out, r_err, None, job["outputCap"], 0, timeout,
                                             lambda line: False, mem=lim.get("mem"))
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


def status_reader(n, results, loaded):
    # Parses "<i> <kind> <json>" lines from the candidate (call) or the tester (functional).
    def on_line(line):
        parts = line.split(b" ", 2)
        if len(parts) != 3:
            return False
        try:
            i = int(parts[0])
            kind = parts[1].decode()
            payload = json.loads(parts[2].decode("utf-8", "replace"))
        except (ValueError, RecursionError, MemoryError):
            return False
        if i == -1 and loaded["ok"] is None:
            loaded["ok"] = kind == "ok"
            loaded["msg"] = payload
        elif 0 <= i < n and i not in results and loaded["ok"]:
            results[i] = (kind, payload)
        else:
            return False
        return True

    return on_line


def emit_results(n, results, loaded, reason, status, out, err, start, stop):
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
            if kind == "gone":
                emit({"ev": "test", "i": i, "s": "exited-early", "msg": payload})
                break
            emit({"ev": "test", "i": i, "s": kind, ("ret" if kind == "ret" else "msg"): payload})
            if kind in ("fail", "wrong") and stop:
                break
        else:
            emit({"ev": "test", "i": i, "s": "not-run" if cut else (reason or "exited-early"), "msg": how})
            cut = True
            if stop:
                break


def run_call(job, lim):
    # The candidate loads the program once and reports each call's return value as plain data; the host compares.
    inputs = [t["input"] for t in job["tests"]]
    n = len(inputs)
    results, loaded = {}, {"ok": None, "msg": ""}
    start = time.monotonic()
    spec = candidate_spec(job, lim, "call", int((n + 1) * job["timeout"]) + 1, fn=job["fn"], inputs=inputs)
    r_out, w_out = os.pipe()
    r_err, w_err = os.pipe()
    r_st, w_st = os.pipe()
    try:
        pid = spawn_candidate(spec, None, w_out, w_err, w_st)
    except BaseException:
        for fd in (r_out, r_err, r_st):
            os.close(fd)
        raise
    finally:
        for fd in (w_out, w_err, w_st):
            os.close(fd)
    reason, status, out, err = supervise(pid, r_out, r_err, r_st, job["outputCap"], job["statusCap"], job["timeout"],
                                         status_reader(n, results, loaded), mem=lim.get("mem"))
    emit_results(n, results, loaded, reason, status, out, err, start, job.get("stop", True))


def run_functional(job, lim, pre, units):
    # The candidate (from the factory) loads the program and answers requests; the tester (forked here, trusted)
    # runs the test code against it and reports each unit. The program never sees the test code.
    n = len(units)
    test_lines = job.get("testSource", "").split("\n")
    results, loaded = {}, {"ok": None, "msg": ""}
    start = time.monotonic()
    cpu = int((n + 1) * job["timeout"]) + 1
    spec = candidate_spec(job, lim, "functional", cpu)
    r_out, w_out = os.pipe()
    r_err, w_err = os.pipe()
    r_st, w_st = os.pipe()
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        cpid = spawn_candidate(spec, None, w_out, w_err, theirs.fileno())
    except BaseException:
        for fd in (r_out, r_err, r_st, w_out, w_err, w_st):
            os.close(fd)
        ours.close()
        raise
    finally:
        theirs.close()
    tpid = os.fork()
    if tpid == 0:
        code = 70
        try:
            os.setpgid(0, 0)
            null = os.open("/dev/null", os.O_RDONLY)
            os.dup2(null, 0)
            os.dup2(w_out, 1)
            os.dup2(w_err, 2)
            os.dup2(w_st, 3)
            os.dup2(ours.fileno(), 4)
            os.closerange(5, 65536)
            for which, key in ((resource.RLIMIT_AS, "as"), (resource.RLIMIT_FSIZE, "fsize"),
                               (resource.RLIMIT_NOFILE, "nofile")):
                set_limit(which, lim.get(key), [], key)
            child_streams()
            code = tester_main(job, pre, units, test_lines, 4)
        except BaseException:
            code = 71
        finally:
            os._exit(code)
    ours.close()
    for fd in (w_out, w_err, w_st):
        os.close(fd)
    reason, status, out, err = supervise(tpid, r_out, r_err, r_st, job["outputCap"], job["statusCap"], job["timeout"],
                                         status_reader(n, results, loaded), others=[cpid], mem=lim.get("mem"),
                                         exclude=(tpid,))
    emit_results(n, results, loaded, reason, status, out, err, start, job.get("stop", True))


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
    """Remove everything a job left in a scratch dir, however deep (every call is relative to a directory descriptor,
    so no path grows past PATH_MAX), restoring permissions it took away. Returns (entries removed, fully emptied)."""
    count = 0
    try:
        os.chmod(root, SCRATCH_MODES.get(root, 0o755))
        cur = os.open(root, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    except OSError:
        return count, False
    depth = 0
    stuck = set()
    steps = 0
    try:
        while steps < 2000000:
            steps += 1
            descended = False
            try:
                names = os.listdir(cur)
            except OSError:
                names = []
            for name in names:
                try:
                    st = os.stat(name, dir_fd=cur, follow_symlinks=False)
                except OSError:
                    continue
                if (st.st_dev, st.st_ino) in stuck:
                    continue
                if (st.st_mode & 0o170000) != 0o040000:
                    try:
                        os.unlink(name, dir_fd=cur)
                        count += 1
                    except OSError:
                        stuck.add((st.st_dev, st.st_ino))
                    continue
                try:
                    os.rmdir(name, dir_fd=cur)
                    count += 1
                    continue
                except OSError:
                    pass
                try:
                    os.chmod(name, 0o700, dir_fd=cur)
                    child = os.open(name, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=cur)
                except OSError:
                    stuck.add((st.st_dev, st.st_ino))
                    continue
                os.close(cur)
                cur = child
                depth += 1
                descended = True
                break
            if descended:
                continue
            if depth == 0:
                break
            # Leaving a directory: if anything in it could not be removed, mark it so the parent does not come back.
            try:
                here = os.fstat(cur)
                left = bool(os.listdir(cur))
                parent = os.open("..", os.O_RDONLY | os.O_DIRECTORY, dir_fd=cur)
            except OSError:
                return count, False
            if left:
                stuck.add((here.st_dev, here.st_ino))
            os.close(cur)
            cur = parent
            depth -= 1
        try:
            empty = depth == 0 and not os.listdir(cur)
        except OSError:
            empty = False
        return count, empty
    finally:
        os.close(cur)


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
    # Anything the job could leave behind that the next job would see or suffer from: processes, files, IPC objects,
    # keys, a runner or factory whose limits, priority or state another process changed.
    reasons = []
    if STATE["strays"]:
        reasons.append(str(STATE["strays"]) + " leftover processes")
        STATE["strays"] = 0
    files = 0
    for d in SCRATCH:
        n, empty = wipe(d)
        files += n
        if not empty:
            reasons.append("files in " + d + " that could not be removed")
    if files > 1000:
        reasons.append(str(files) + " files")
    if ipc_objects():
        reasons.append("IPC objects")
    if key_users() != keys0:
        reasons.append("kernel keys")
    if STATE.pop("factory_lost", False):
        reasons.append("the process factory died")
    reasons += factory_problems()
    if STATE["snapshot"] is not None and snapshot(os.getpid()) != STATE["snapshot"]:
        reasons.append("the runner's limits or priority were changed")
    return reasons


def run_job(job, cache):
    lim = job["limits"]
    start = time.monotonic()
    try:
        pre = None  # the preamble's namespace, executed once here (trusted): testers read its modules
        if job.get("preamble"):
            pre = cache.get(job["preamble"])
            if pre is None:
                pre = {"__name__": "preamble"}
                exec(compile(job["preamble"], "<preamble>", "exec"), pre)
                cache.clear()
                cache[job["preamble"]] = pre
        compile(job["program"], "<solution>", "exec")
    except (SyntaxError, ValueError, MemoryError, RecursionError, OverflowError) as e:
        emit({"ev": "compile", "ok": False, "msg": fmt_exc(e)})
        return start
    emit({"ev": "compile", "ok": True})
    mode = job["mode"]
    try:
        warm(job.get("preamble"))
        if mode == "stdio":
            run_stdio(job, lim)
        elif mode == "call":
            run_call(job, lim)
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
                run_functional(job, lim, pre, units)
    except FactoryError as e:
        kill_all([])
        STATE["factory_lost"] = True
        emit({"ev": "sandbox-error", "msg": str(e)})
    return start


def main():
    uid = int(SCRATCH.pop(0))
    if uid >= 0 and os.getuid() == 0:
        # bwrap-root level: bwrap left us CAP_SETUID/CAP_SETGID only to get here; switching uid drops them too.
        os.setgroups([])
        os.setgid(uid)
        os.setuid(uid)
    # Imports come from the system only, never from the writable working directory (/tmp).
    cwd = os.getcwd()
    sys.path[:] = [p for p in sys.path if p not in ("", ".") and os.path.abspath(p) != cwd]
    try:
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    except (ValueError, OSError):
        pass
    dumpable = not non_dumpable()
    if not PID1:
        # Unsandboxed: nothing else ends the runner when the host dies.
        prctl(1, signal.SIGKILL)
    for d in SCRATCH:
        try:
            SCRATCH_MODES[d] = os.stat(d).st_mode & 0o7777
        except OSError:
            pass
    keys0 = key_users()
    # The factory is forked now, before any job is read: its memory never holds a job's test code.
    start_factory()
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
        prefork()


if __name__ == "__main__":
    main()

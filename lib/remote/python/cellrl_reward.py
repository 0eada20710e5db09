# cellrl_reward.py: the cellrl task verifiers as a verl custom reward function.
# Written by cellrl (remote.exportVerlRun / remote.verlRewardPython); Python standard library only.
#
# verl loads it through custom_reward_function.path (this file) and custom_reward_function.name (compute_score) and
# calls compute_score(data_source, solution_str, ground_truth, extra_info, **kwargs) once per response:
#   - cellrl/arith, cellrl/countdown, cellrl/sort, cellrl/reverse, cellrl/modular, cellrl/pair-sum, cellrl/derange
#     (and the extra sources listed in _EXPORT) are scored exactly as cellrl's reward.scoreSync scores them: the answer
#     is the content of the last <answer>...</answer>, else the whole response, trimmed; exact match; countdown with
#     TinyZero's 0 / format score / 1 and an exact fraction evaluator (no eval);
#   - every other data source goes to verl.utils.reward_score.default_compute_score (imported only then).
# Verifier options (cellrl's rewardOptions) can be set as verl reward kwargs:
#   +custom_reward_function.reward_kwargs.partialWeight=0.5   (sort, reverse, arith: partial credit per position)
#   +custom_reward_function.reward_kwargs.formatScore=0.1     (countdown: the score of a wrong but well-formed answer)
# Check it by hand: python3 cellrl_reward.py < cases.jsonl, one {"data_source", "solution_str", "ground_truth"} per line.
import json
import numbers
import re
import sys

# Settings of this export (JSON): more data sources -> verifier, and default verifier options. remote.exportVerlRun
# writes them on the next line; the copy in cellrl's lib/remote/python/ has none.
_EXPORT = json.loads("{\"sources\":{},\"options\":{}}")

# ECMAScript WhiteSpace + LineTerminator: what String.prototype.trim() removes and what \s matches in a JS regex
_JS_WS = "\t\n\v\f\r \u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
_WS = "".join(re.escape(c) for c in _JS_WS)
_COUNTDOWN_CHARS = re.compile("[0-9+\\-*/()" + _WS + "]+")
_PAIR = re.compile(r"(0|[1-9][0-9]{0,8})\+(0|[1-9][0-9]{0,8})")
_OPTION_KEYS = ("partialWeight", "formatScore")


def _trim(s):
    return s.strip(_JS_WS)


def _u16(s):
    """UTF-16 code units (what a JavaScript string's indices and length count)."""
    b = s.encode("utf-16-le", "surrogatepass")
    return [b[i] | (b[i + 1] << 8) for i in range(0, len(b), 2)]


def _js_number(v):
    """JavaScript's Number(v) for the values options and ground truths hold."""
    if v is None:
        return 0
    if isinstance(v, bool):
        return 1 if v else 0
    if hasattr(v, "item") and not isinstance(v, (str, bytes)):
        v = v.item()  # numpy scalar
    if isinstance(v, numbers.Real):
        return v
    if isinstance(v, str):
        t = _trim(v)
        if t == "":
            return 0
        try:
            if re.fullmatch(r"0[xX][0-9a-fA-F]+", t):
                return int(t, 16)
            if re.fullmatch(r"0[oO][0-7]+", t):
                return int(t, 8)
            if re.fullmatch(r"0[bB][01]+", t):
                return int(t, 2)
            if re.fullmatch(r"[+-]?Infinity", t):
                return float(t.replace("Infinity", "inf"))
            if re.fullmatch(r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?", t):
                return float(t)
        except ValueError:
            pass
    return float("nan")


def _js_string(v):
    """JavaScript's String(v) for the ground truths tasks write."""
    if isinstance(v, str):
        return v
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "true" if v else "false"
    if hasattr(v, "tolist"):
        v = v.tolist()  # numpy scalars and arrays
    if isinstance(v, numbers.Integral):
        return str(int(v))
    if isinstance(v, numbers.Real):
        f = float(v)
        if f != f:
            return "NaN"
        if f in (float("inf"), float("-inf")):
            return "Infinity" if f > 0 else "-Infinity"
        if f.is_integer() and abs(f) < 1e21:
            return str(int(f))
        r = repr(f)
        if "e" in r:
            m, e = r.split("e")
            r = m + "e" + ("+" if int(e) > 0 else "-") + str(abs(int(e)))
        return r
    if isinstance(v, (list, tuple)):
        return ",".join("" if x is None else _js_string(x) for x in v)
    if isinstance(v, dict):
        return "[object Object]"
    return str(v)


def _truth(gt):
    """The ground truth as the record held it. A parquet column whose rows mix strings and objects is stored as JSON
    text (cellrl's writer), which pandas / datasets hand over undecoded: '"12359"' or '{"target": 56, ...}'."""
    if isinstance(gt, (bytes, bytearray)):
        gt = gt.decode("utf-8")
    if hasattr(gt, "tolist") and not isinstance(gt, str):
        gt = gt.tolist()
    if isinstance(gt, str) and len(gt) >= 2 and gt[0] == '"' and gt[-1] == '"':
        try:
            s = json.loads(gt)
            if isinstance(s, str):
                return s
        except ValueError:
            pass
    return gt


def _object_truth(gt, task):
    """An object ground truth ({target, numbers}, {target, minValue}), JSON text decoded (JSON.parse in cellrl)."""
    g = _truth(gt)
    if isinstance(g, str):
        g = json.loads(g)
    if g is None:
        raise ValueError("%s ground_truth must be an object (got %r)" % (task, gt))
    if not hasattr(g, "items"):
        return {}  # a JSON number or list: its fields read as undefined, as in JavaScript
    return {k: (v.tolist() if hasattr(v, "tolist") else v) for k, v in g.items()}


def answer_of(response):
    """The content of the last <answer>...</answer>, else the whole response; surrounding whitespace removed."""
    close = response.rfind("</answer>")
    if close >= 0:
        start = response.rfind("<answer>", 0, close)
        if start >= 0:
            return _trim(response[start + 8:close])
    return _trim(response)


def positional_credit(gold, pred, align="left"):
    g, p = _u16(gold), _u16(pred)
    n = max(len(g), len(p))
    if n == 0:
        return 0
    same = 0
    for i in range(min(len(g), len(p))):
        if (g[i] == p[i]) if align == "left" else (g[len(g) - 1 - i] == p[len(p) - 1 - i]):
            same += 1
    return same / n


def _exact(gold, pred, partial_weight, align):
    if pred == "":
        return 0
    if pred == gold:
        return 1
    return partial_weight * positional_credit(gold, pred, align) if partial_weight > 0 else 0


def _sequence(response, gt, opts):
    return _exact(_js_string(_truth(gt)), answer_of(response), _js_number(opts.get("partialWeight", 0)), "left")


def _arith(response, gt, opts):
    return _exact(_js_string(_truth(gt)), answer_of(response), _js_number(opts.get("partialWeight", 0)), "right")


def _modular(response, gt, opts):
    return _exact(_js_string(_truth(gt)), answer_of(response), 0, "right")


class _ExprError(Exception):
    pass


def eval_int_expr(src):
    """Exact value (numerator, denominator > 0) of an expression of integers with + - * / and parentheses, and the
    integers it uses in order. The same recursive descent as cellrl's evalIntExpr: no unary minus, literals of at
    most 15 digits, at most 50 nested parentheses; division by zero is an error."""
    s = "".join(c for c in src if c not in _JS_WS)
    pos = [0]
    used = []
    depth = [0]

    def peek():
        return s[pos[0]] if pos[0] < len(s) else None

    def norm(n, d):
        if d == 0:
            raise _ExprError("division by zero")
        return (-n, -d) if d < 0 else (n, d)

    def expr():
        an, ad = term()
        while peek() in ("+", "-"):
            op = s[pos[0]]
            pos[0] += 1
            bn, bd = term()
            an, ad = norm(an * bd + bn * ad if op == "+" else an * bd - bn * ad, ad * bd)
        return an, ad

    def term():
        an, ad = factor()
        while peek() in ("*", "/"):
            op = s[pos[0]]
            pos[0] += 1
            bn, bd = factor()
            an, ad = norm(an * bn, ad * bd) if op == "*" else norm(an * bd, ad * bn)
        return an, ad

    def factor():
        if peek() == "(":
            depth[0] += 1
            if depth[0] > 50:
                raise _ExprError("too deeply nested")
            pos[0] += 1
            v = expr()
            if peek() != ")":
                raise _ExprError("missing )")
            pos[0] += 1
            depth[0] -= 1
            return v
        j = pos[0]
        while j < len(s) and j - pos[0] < 15 and s[j] in "0123456789":
            j += 1
        if j == pos[0]:
            raise _ExprError("expected a number at %d" % pos[0])
        lit = s[pos[0]:j]
        pos[0] = j
        used.append(int(lit))
        return int(lit), 1

    if len(s) == 0:
        raise _ExprError("empty")
    value = expr()
    if pos[0] != len(s):
        raise _ExprError("unexpected %s" % s[pos[0]])
    return value, used


def _countdown(response, gt, opts):
    format_score = _js_number(0.1 if opts.get("formatScore") is None else opts["formatScore"])
    g = _object_truth(gt, "countdown")
    target, given = g.get("target"), g.get("numbers")
    if not g or isinstance(target, bool) or not isinstance(target, numbers.Real) or not isinstance(given, (list, tuple)):
        raise ValueError("countdown ground_truth must be {target, numbers} (got %r)" % (gt,))
    eq = answer_of(response)
    if eq == "":
        return 0
    if not _COUNTDOWN_CHARS.fullmatch(eq):
        return format_score
    try:
        (n, d), used = eval_int_expr(eq)
    except _ExprError:
        return format_score
    given_str = ",".join(_js_string(x) for x in sorted(given, key=_js_number))
    if ",".join(str(x) for x in sorted(used)) != given_str:
        return format_score
    if isinstance(target, float) and not target.is_integer():
        raise ValueError("countdown target %r is not an integer" % (target,))
    return 1 if n == int(target) * d else format_score


def _pair_sum(response, gt, opts):
    g = _object_truth(gt, "pair-sum")
    target = _js_number(g["target"]) if "target" in g else float("nan")
    min_value = _js_number(g.get("minValue") if g.get("minValue") is not None else 1)
    m = _PAIR.fullmatch(answer_of(response))
    if not m:
        return 0
    a, b = int(m.group(1)), int(m.group(2))
    if a < min_value or b < min_value:
        return 0
    return 1 if a + b == target else 0


def _derange(response, gt, opts):
    word = _js_string(_truth(gt))
    ans = answer_of(response)
    if ans == "":
        return 0
    by_unit = lambda c: c.encode("utf-16-be", "surrogatepass")
    if len(_u16(ans)) != len(_u16(word)) or "".join(sorted(ans, key=by_unit)) != "".join(sorted(word, key=by_unit)):
        return 0
    units = _u16(word)
    fixed = sum(1 for i, c in enumerate(ans) if i < len(units) and len(_u16(c)) == 1 and ord(c) == units[i])
    return 1 if fixed == 0 else 0


VERIFIERS = {"arith": _arith, "countdown": _countdown, "sequence": _sequence, "modular": _modular, "pair-sum": _pair_sum, "derange": _derange}
SOURCES = {
    "cellrl/arith": "arith",
    "cellrl/countdown": "countdown",
    "cellrl/sort": "sequence",
    "cellrl/reverse": "sequence",
    "cellrl/modular": "modular",
    "cellrl/pair-sum": "pair-sum",
    "cellrl/derange": "derange",
}
SOURCES.update(_EXPORT.get("sources", {}))


def cellrl_score(data_source, solution_str, ground_truth, **options):
    """The score cellrl's reward.scoreSync gives, for a cellrl data source; options as its rewardOptions."""
    kind = SOURCES.get(data_source)
    if kind is None:
        raise ValueError("cellrl_reward.py: no cellrl verifier for data_source %r (known: %s)" % (data_source, ", ".join(sorted(SOURCES))))
    opts = dict(_EXPORT.get("options", {}))
    opts.update({k: v for k, v in options.items() if k in _OPTION_KEYS})
    return float(VERIFIERS[kind]("" if solution_str is None else str(solution_str), ground_truth, opts))


def compute_score(data_source, solution_str, ground_truth, extra_info=None, **kwargs):
    """verl's custom reward function: cellrl/* sources by the cellrl verifiers, the rest by verl's default_compute_score."""
    if data_source in SOURCES:
        return cellrl_score(data_source, solution_str, ground_truth, **kwargs)
    if isinstance(data_source, str) and data_source.startswith("cellrl/"):
        raise ValueError("cellrl_reward.py: data_source %r is not a task this file implements (%s); export it with a "
                         "reward function of its own (settings.rewardFunction)." % (data_source, ", ".join(sorted(SOURCES))))
    from verl.utils.reward_score import default_compute_score
    import inspect

    rest = {k: v for k, v in kwargs.items() if k not in _OPTION_KEYS}
    try:
        params = inspect.signature(default_compute_score).parameters
        if not any(p.kind == p.VAR_KEYWORD for p in params.values()):
            rest = {k: v for k, v in rest.items() if k in params}
    except (TypeError, ValueError):
        pass
    # A ground-truth column that mixes strings and objects is JSON text in the parquet (see _truth): a plain answer
    # there reads as '"18"', which verl's exact-match scorers would never equal. Undo that; objects stay as they are.
    return default_compute_score(data_source, solution_str, _truth(ground_truth), extra_info, **rest)


def _main():
    out = sys.stdout
    for line in sys.stdin:
        if not line.strip():
            continue
        case = json.loads(line)
        try:
            score = compute_score(case["data_source"], case["solution_str"], case["ground_truth"], case.get("extra_info"), **case.get("kwargs", {}))
            out.write(json.dumps({"score": score}) + "\n")
        except Exception as e:  # one bad case does not hide the others
            out.write(json.dumps({"error": "%s: %s" % (type(e).__name__, e)}) + "\n")


if __name__ == "__main__":
    _main()

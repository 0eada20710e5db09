"""Execute notebooks with a Jupyter kernel via nbclient; called by scripts/run-notebooks.mjs (`npm run notebooks`).

usage: run_notebooks.py --out DIR [--kernel cellrl] [--timeout 600] [--budget 300] [--result-keys FILE]
                        [--no-html] NOTEBOOK...

For each notebook in order: execute all cells (cwd = the notebook's folder), print its wall time, write the
executed copy and an HTML export (nbconvert's basic body in a styled, self-contained page) to DIR. A notebook fails when
  * a cell fails: the notebook, the cell number and the error (ename/evalue/traceback, or the cell's stderr);
  * a cell runs longer than --timeout seconds (per cell, default 600);
  * the whole notebook runs longer than --budget seconds (default 300 = the 5-minute budget, or
    $CELLRL_NOTEBOOK_BUDGET): a running cell is stopped when the budget is used up;
  * (tutorials in notebooks/ only) its `RESULT {json}` line (printed by the last code cell) is missing, is not a JSON object, or lacks a key that
    --result-keys (default test/notebooks/result-keys.json) requires for it. A notebook that file lists as
    exempt (00-hello, the smoke test) needs no RESULT line; one it does not name at all fails, naming the file.
At the first failure the partial copy is written and the run stops. The last line is "N passed, N failed"
(+ "N not run"); exit status 1 if anything failed.
"""

import argparse
import json
import math
import os
import re
import sys
import time

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError


def write_atomic(path, text):
    tmp = f"{path}.{os.getpid()}.tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, path)


EXPORT_CSS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "notebook-export", "notebook.css")


def notebook_title(nb, path):
    """The first markdown heading of the notebook (without # and markup), else the file name."""
    import re

    for cell in nb.get("cells", []):
        if cell.get("cell_type") != "markdown":
            continue
        src = cell.get("source", "")
        src = "".join(src) if isinstance(src, list) else src
        m = re.search(r"^#{1,3}\s+(.+)$", src, re.M)
        if m:
            return re.sub(r"[`*_]|<[^>]+>", "", m.group(1)).strip()
    return os.path.splitext(os.path.basename(path))[0]


def export_html(nb, path):
    """A self-contained, styled page: nbconvert's "basic" body (no jquery/require.js/MathJax links to file:// paths,
    no pilcrow anchors) inside our own <html> with the CSS of scripts/notebook-export/notebook.css."""
    import html as htmllib
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(template_name="basic", exclude_anchor_links=True)
    body, resources = exporter.from_notebook_node(nb)
    with open(EXPORT_CSS, encoding="utf-8") as f:
        css = f.read()
    pygments = resources.get("inlining", {}).get("css", [])
    title = notebook_title(nb, path)
    page = (
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{htmllib.escape(title)}</title>\n"
        f"<style>\n{css}\n</style>\n"
        + "".join(f"<style>\n{c}\n</style>\n" for c in pygments if "file://" not in c)
        + "</head>\n<body>\n"
        f'<div class="cellrl-title-bar">cellrl notebook · {htmllib.escape(os.path.basename(path))}</div>\n'
        f"{body}\n</body>\n</html>\n"
    )
    write_atomic(path, page)


def cell_error_text(cell):
    """The error of an executed cell: its `error` output, else its stderr."""
    lines = []
    for out in cell.get("outputs", []):
        if out.get("output_type") == "error":
            lines.append(f"{out.get('ename')}: {out.get('evalue')}")
            lines.extend(out.get("traceback", []))
    if not lines:
        for out in cell.get("outputs", []):
            if out.get("output_type") == "stream" and out.get("name") == "stderr":
                lines.append(out.get("text", ""))
    return "\n".join(lines).rstrip()


def budget_text(budget):
    minutes = budget / 60
    return f"{minutes:g}-minute budget" if minutes == int(minutes) else f"{budget:g} s budget"


def load_result_keys(file):
    try:
        with open(file, encoding="utf-8") as f:
            spec = json.load(f)
    except (OSError, ValueError) as e:
        sys.exit(f"run_notebooks: cannot read the RESULT key map {file}: {e}")
    return spec.get("required", {}), spec.get("exempt", {})


RESULT_LINE = re.compile(r"^RESULT (.*)$", re.M)


def check_result(nb, name, required, exempt, keys_file):
    """(RESULT line or None, problem or None) for an executed notebook."""
    if name in exempt:
        return None, None
    if name not in required:
        return None, (f"{name} is not in {keys_file}: add its RESULT keys under \"required\" "
                      f"(or list it under \"exempt\" with the reason).")
    code = [c for c in nb.cells if c.cell_type == "code"]
    text = "".join(o.get("text", "") for o in (code[-1].get("outputs", []) if code else [])
                   if o.get("output_type") == "stream" and o.get("name") == "stdout")
    lines = RESULT_LINE.findall(text)
    if not lines:
        return None, ("the last code cell printed no `RESULT {json}` line "
                      "(end it with console.log(\"RESULT \" + JSON.stringify({...})))")
    line = "RESULT " + lines[-1].strip()
    try:
        result = json.loads(lines[-1])
    except ValueError as e:
        return line, f"the RESULT line is not valid JSON ({e}): {line[:300]}"
    if not isinstance(result, dict):
        return line, f"the RESULT line is not a JSON object: {line[:300]}"
    missing = [k for k in required[name] if k not in result]
    if missing:
        return line, (f"the RESULT line lacks required key(s) {', '.join(missing)} "
                      f"({keys_file} requires {', '.join(required[name])}; got {', '.join(result) or 'none'})")
    return line, None


def run_one(path, args):
    nb = nbformat.read(path, as_version=4)
    where = {"index": None}
    t0 = time.time()

    def on_cell_start(cell, cell_index):
        where["index"] = cell_index

    def cell_timeout(cell):
        # The per-cell timeout, or what is left of the notebook's budget if that is less (at least 1 s: nbclient
        # reads 0 as "no timeout").
        left = args.budget - (time.time() - t0)
        return max(1, min(args.timeout, math.ceil(left)))

    client = NotebookClient(
        nb,
        timeout=args.timeout,
        timeout_func=cell_timeout,
        kernel_name=args.kernel,
        resources={"metadata": {"path": os.path.dirname(os.path.abspath(path))}},
        on_cell_start=on_cell_start,
    )
    name = os.path.splitext(os.path.basename(path))[0]
    error = None
    try:
        client.execute()
    except (CellExecutionError, CellTimeoutError, DeadKernelError) as e:
        error = e
    wall = time.time() - t0
    nbformat.write(nb, os.path.join(args.out, name + ".ipynb"))
    if not args.no_html:
        try:
            export_html(nb, os.path.join(args.out, name + ".html"))
        except Exception as e:  # an export problem must not hide the execution result
            print(f"  (HTML export failed: {e})", flush=True)
    return error, wall, where["index"], nb


TUTORIALS = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "notebooks"))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--kernel", default="cellrl")
    ap.add_argument("--timeout", type=int, default=600, help="seconds per cell")
    ap.add_argument("--budget", type=float, default=float(os.environ.get("CELLRL_NOTEBOOK_BUDGET") or 300),
                    help="seconds per notebook (default $CELLRL_NOTEBOOK_BUDGET or 300)")
    ap.add_argument("--result-keys", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "test", "notebooks", "result-keys.json"))
    ap.add_argument("--no-html", action="store_true")
    ap.add_argument("notebooks", nargs="+")
    args = ap.parse_args()
    if not args.budget > 0:
        sys.exit(f"run_notebooks: --budget must be a positive number of seconds (got {args.budget})")
    os.makedirs(args.out, exist_ok=True)
    keys_file = os.path.relpath(os.path.normpath(args.result_keys))
    required, exempt = load_result_keys(args.result_keys)

    passed = failed = 0
    for i, path in enumerate(args.notebooks):
        print(f"{path} ...", flush=True)
        error, wall, index, nb = run_one(path, args)
        name = os.path.splitext(os.path.basename(path))[0]
        problem = line = None
        if wall > args.budget and (error is None or isinstance(error, CellTimeoutError)):
            # Over budget, whether a cell was stopped for it or the notebook finished late.
            problem = f"over the {budget_text(args.budget)}: took {wall:.1f} s (limit {args.budget:g} s; --budget / CELLRL_NOTEBOOK_BUDGET)"
            if isinstance(error, CellTimeoutError) and index is not None:
                code_number = sum(1 for c in nb.cells[: index + 1] if c.cell_type == "code")
                problem += f"; stopped in cell {index + 1} (code cell {code_number})"
        elif error is None and os.path.dirname(os.path.abspath(path)) == TUTORIALS:
            # The RESULT contract is the tutorials' (notebooks/); test notebooks run through here too.
            line, problem = check_result(nb, name, required, exempt, keys_file)
        if error is None and problem is None:
            passed += 1
            print(f"  ok  {wall:.1f}s" + (f"  {line}" if line else ""), flush=True)
            continue
        failed += 1
        print(f"  FAILED  {wall:.1f}s", flush=True)
        if problem is not None:
            print(f"\n{path}: {problem}", flush=True)
        elif index is not None:
            cell = nb.cells[index]
            code_number = sum(1 for c in nb.cells[: index + 1] if c.cell_type == "code")
            print(f"\n{path}: cell {index + 1} (code cell {code_number}) failed:", flush=True)
            src = cell.source if len(cell.source) < 1500 else cell.source[:1500] + "\n..."
            print("--- cell source ---\n" + src + "\n--- error ---", flush=True)
            text = cell_error_text(cell)
            print(text if text else str(error), flush=True)
        else:
            print(f"\n{path}: {type(error).__name__}: {error}", flush=True)
        rest = len(args.notebooks) - i - 1
        print(f"\n{passed} passed, {failed} failed" + (f", {rest} not run" if rest else ""), flush=True)
        sys.exit(1)
    print(f"\n{passed} passed, {failed} failed", flush=True)


if __name__ == "__main__":
    main()

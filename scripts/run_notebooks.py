"""Execute notebooks with a Jupyter kernel via nbclient; called by scripts/run-notebooks.mjs (`npm run notebooks`).

usage: run_notebooks.py --out DIR [--kernel cellrl] [--timeout 600] [--no-html] NOTEBOOK...

For each notebook in order: execute all cells (cwd = the notebook's folder), print its wall time, write the
executed copy and an HTML export (nbconvert, classic template) to DIR. At the first failing cell: print the
notebook, the cell number and the error (ename/evalue/traceback, or the cell's stderr), write the partial copy,
and stop. The last line is "N passed, N failed" (+ "N not run"); exit status 1 if anything failed.
"""

import argparse
import os
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


def export_html(nb, path):
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(template_name="classic")
    body, _ = exporter.from_notebook_node(nb)
    write_atomic(path, body)


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


def run_one(path, args):
    nb = nbformat.read(path, as_version=4)
    where = {"index": None}

    def on_cell_start(cell, cell_index):
        where["index"] = cell_index

    client = NotebookClient(
        nb,
        timeout=args.timeout,
        kernel_name=args.kernel,
        resources={"metadata": {"path": os.path.dirname(os.path.abspath(path))}},
        on_cell_start=on_cell_start,
    )
    name = os.path.splitext(os.path.basename(path))[0]
    t0 = time.time()
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


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--kernel", default="cellrl")
    ap.add_argument("--timeout", type=int, default=600)
    ap.add_argument("--no-html", action="store_true")
    ap.add_argument("notebooks", nargs="+")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)

    passed = failed = 0
    for i, path in enumerate(args.notebooks):
        print(f"{path} ...", flush=True)
        error, wall, index, nb = run_one(path, args)
        if error is None:
            passed += 1
            print(f"  ok  {wall:.1f}s", flush=True)
            continue
        failed += 1
        print(f"  FAILED  {wall:.1f}s", flush=True)
        if index is not None:
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

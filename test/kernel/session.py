"""Drive one kernel session from a JSON script and print what came back (used by test/kernel/*.test.ts).

stdin:  {"kernel": "cellrl", "cwd": "...", "steps": [
          {"code": "...", "stop_on_error": true, "silent": false, "interrupt_after_ms": 800, "timeout": 60},
          {"batch": ["code1", "code2"], "stop_on_error": false}      # sent at once, like "Run All"
        ]}
stdout: {"steps": [{"reply": {...}, "outputs": [{"msg_type": ..., "content": ...}], "ms": 12.3}, ...]}
        (a batch step gives {"batch": [<one such result per code>]})
Run with Jupyter's Python (/usr/bin/python3 on Debian) and JUPYTER_PATH pointing at the repo's .jupyter.
"""

import json
import sys
import time

from jupyter_client.manager import start_new_kernel


def collect(kc, msg_ids, timeout):
    """iopub messages of each request until its idle status, and its shell reply."""
    outputs = {m: [] for m in msg_ids}
    idle = set()
    replies = {}
    deadline = time.time() + timeout
    while (len(idle) < len(msg_ids) or len(replies) < len(msg_ids)) and time.time() < deadline:
        while len(replies) < len(msg_ids):
            try:
                r = kc.get_shell_msg(timeout=0.05)
            except Exception:
                break
            pid = r["parent_header"].get("msg_id")
            if pid in outputs:
                replies[pid] = r["content"]
        try:
            msg = kc.get_iopub_msg(timeout=0.05)
        except Exception:
            continue
        pid = msg["parent_header"].get("msg_id")
        if pid not in outputs:
            continue
        if msg["msg_type"] == "status":
            if msg["content"]["execution_state"] == "idle":
                idle.add(pid)
            continue
        outputs[pid].append({"msg_type": msg["msg_type"], "content": msg["content"]})
    return [{"reply": replies.get(m), "outputs": outputs[m]} for m in msg_ids]


def main():
    spec = json.load(sys.stdin)
    km, kc = start_new_kernel(kernel_name=spec.get("kernel", "cellrl"), cwd=spec.get("cwd"))
    results = []
    try:
        for step in spec["steps"]:
            timeout = step.get("timeout", 60)
            opts = {"stop_on_error": step.get("stop_on_error", True), "silent": step.get("silent", False)}
            t0 = time.time()
            if "batch" in step:
                ids = [kc.execute(code, **opts) for code in step["batch"]]
                res = collect(kc, ids, timeout)
                results.append({"batch": res, "ms": (time.time() - t0) * 1000})
                continue
            msg_id = kc.execute(step["code"], **opts)
            if "interrupt_after_ms" in step:
                time.sleep(step["interrupt_after_ms"] / 1000)
                km.interrupt_kernel()
            res = collect(kc, [msg_id], timeout)[0]
            res["ms"] = (time.time() - t0) * 1000
            results.append(res)
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=False)
    json.dump({"steps": results}, sys.stdout)


if __name__ == "__main__":
    main()

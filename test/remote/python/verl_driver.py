"""Score cases with a reward file loaded the way verl loads it (test/remote/verl-reward.test.ts runs this).

Usage: python3 verl_driver.py REWARD_FILE < cases.jsonl. Loads REWARD_FILE as verl's get_custom_reward_fn does
(spec_from_file_location "custom_module") and calls compute_score with keywords as verl's reward loop does. A case's
gt_form "json" hands the ground truth over as the JSON text a mixed parquet column holds; "numpy" as pandas gives a
struct column (numpy arrays and scalars), when numpy is installed. Prints {"numpy": bool, "results": [...]}.
"""
import importlib.util, json, sys
spec = importlib.util.spec_from_file_location("custom_module", sys.argv[1])
mod = importlib.util.module_from_spec(spec)
sys.modules["custom_module"] = mod
spec.loader.exec_module(mod)
fn = getattr(mod, "compute_score")
try:
    import numpy as np
except ImportError:
    np = None
def numpyish(v):
    if np is None: return v
    if isinstance(v, dict): return {k: numpyish(x) for k, x in v.items()}
    if isinstance(v, list): return np.array(v)
    if isinstance(v, int) and not isinstance(v, bool): return np.int64(v)
    return v
out = []
for line in sys.stdin:
    c = json.loads(line)
    gt = c["ground_truth"]
    if c.get("gt_form") == "json": gt = json.dumps(gt)
    elif c.get("gt_form") == "numpy": gt = numpyish(gt)
    try:
        s = fn(data_source=c["data_source"], solution_str=c["solution_str"], ground_truth=gt, extra_info=c.get("extra_info"), **c.get("kwargs", {}))
        out.append({"score": s})
    except Exception as e:
        out.append({"error": "%s: %s" % (type(e).__name__, e)})
sys.stdout.write(json.dumps({"numpy": np is not None, "results": out}))

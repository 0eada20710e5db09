// cellrl_reward.py's own unit tests (test/remote/python, stdlib unittest) against the real
// lib/remote/python/cellrl_reward.py: JavaScript string and number semantics, each verifier, routing, the settings line
// an export writes, and the command-line checker. verl-reward.test.ts compares its scores with reward.scoreSync.
import { test } from "node:test";
import assert from "node:assert/strict";
import { runUnittest, skipWithoutPython as skip } from "../reward/python-unittest.js";

test("cellrl_reward.py unit tests (test/remote/python, unittest) pass", { skip }, () => {
  assert.ok(runUnittest("test/remote/python") >= 14);
});

"use strict";
// Make interrupted cells stop at their next `await`.
// When an interrupt arrives while a cell awaits (the event loop is free), tslab rejects the awaited promise so the
// cell returns at once, but the cell's async function itself keeps running in the background ("ghost" loop that
// keeps training and printing into later cells). The kernel rewrites every `await X` of the emitted cell code into
// `__cellrl_kernel__.after(await X)`: `after` throws when the running cell (tracked with AsyncLocalStorage, so it
// also covers functions defined in earlier cells) was interrupted, which ends the ghost at its next resumption.

/**
 * Rewrite the awaits of emitted (JavaScript) cell code.
 * @param {string} js
 * @param {any} ts tslab's TypeScript module
 * @returns {string}
 */
function instrumentAwaits(js, ts) {
  if (!js.includes("await")) return js;
  const sf = ts.createSourceFile("cell.js", js, ts.ScriptTarget.ES2022, true, ts.ScriptKind.JS);
  let changed = false;
  const f = ts.factory;
  const guard = () =>
    f.createPropertyAccessExpression(
      f.createPropertyAccessExpression(f.createIdentifier("globalThis"), "__cellrl_kernel__"),
      "after",
    );
  const transformer = (context) => {
    const visit = (node) => {
      node = ts.visitEachChild(node, visit, context);
      if (ts.isAwaitExpression(node)) {
        changed = true;
        return f.createCallExpression(guard(), undefined, [node]);
      }
      return node;
    };
    return (root) => ts.visitNode(root, visit);
  };
  const out = ts.transform(sf, [transformer]);
  const result = ts.createPrinter({ newLine: ts.NewLineKind.LineFeed }).printFile(out.transformed[0]);
  out.dispose();
  return changed ? result : js;
}

module.exports = { instrumentAwaits };

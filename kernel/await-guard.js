"use strict";
// Make interrupted cells stop at their next `await`.
// When an interrupt arrives while a cell awaits (the event loop is free), tslab rejects the awaited promise so the
// cell returns at once, but the cell's async function itself keeps running in the background ("ghost" loop that
// keeps training and printing into later cells). The kernel rewrites every `await X` of the emitted cell code into
// `__cellrl_kernel__.after(await X, <cell run id>)` (top level of the cell) or `__cellrl_kernel__.after(await X)`
// (inside functions, which may run on behalf of any later cell). `after` throws when that cell was interrupted
// (top level) or while an interrupt is pending, i.e. no cell has started since (functions). This ends the ghost at
// its next resumption. (Async context tracking would be exact, but async hooks break the watchdog; see
// cell-runner.js.)

/**
 * Rewrite the awaits of emitted (JavaScript) cell code.
 * @param {string} js
 * @param {any} ts tslab's TypeScript module
 * @param {number} run id of the cell run, passed by top-level awaits
 * @returns {string}
 */
function instrumentAwaits(js, ts, run) {
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
    const visit = (depth) => (node) => {
      const inner = ts.isFunctionLike(node) || ts.isClassStaticBlockDeclaration(node) ? depth + 1 : depth;
      node = ts.visitEachChild(node, visit(inner), context);
      if (ts.isAwaitExpression(node)) {
        changed = true;
        // await hop(X): the continuation runs from a macrotask of its own (see the kernel hook's hop)
        const hopped = f.updateAwaitExpression(
          node,
          f.createCallExpression(
            f.createPropertyAccessExpression(
              f.createPropertyAccessExpression(f.createIdentifier("globalThis"), "__cellrl_kernel__"),
              "hop",
            ),
            undefined,
            [node.expression],
          ),
        );
        const args = depth === 0 ? [hopped, f.createNumericLiteral(run)] : [hopped];
        return f.createCallExpression(guard(), undefined, args);
      }
      return node;
    };
    return (root) => ts.visitNode(root, visit(0));
  };
  const out = ts.transform(sf, [transformer]);
  const result = ts.createPrinter({ newLine: ts.NewLineKind.LineFeed }).printFile(out.transformed[0]);
  out.dispose();
  return changed ? result : js;
}

module.exports = { instrumentAwaits };

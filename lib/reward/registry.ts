// The reward registry and the data_source -> reward routing table (verl's default_compute_score, as data).
// Graders register themselves in their own file: `register("code", codeReward, {dataSources: [...]})`.
import { fail, nearest } from "../core/errors.js";
import { registry, type RegistryInfo } from "../core/registry.js";
import type { RewardFn } from "./types.js";

/** Every reward by name ("math", "gsm8k", "gpqa", "code", "countdown", ...); `rewards.rows()` lists them. */
export const rewards = registry<RewardFn>("reward");

/** Options of register(). */
export interface RegisterOptions extends RegistryInfo {
  /** Data sources routed to this reward: exact names (case-insensitive) or regular expressions. */
  dataSources?: (string | RegExp)[];
  /** Replace a built-in reward of the same name. Defaults to false. */
  override?: boolean;
}

interface SourceRule {
  match: string | RegExp;
  reward: string;
}

// Later rules win, so a user's registration overrides a built-in route without removing it.
const exactRoutes = new Map<string, { source: string; reward: string }>();
const patternRoutes: SourceRule[] = [];

/**
 * Register a reward under `name`, optionally routing data sources to it. Re-running the cell replaces it.
 * @example
 * const shout = (r) => ({score: r === r.toUpperCase() ? 1 : 0, details: {}})
 * reward.register("shout", shout, {dataSources: ["my/shout"]})
 */
export function register(name: string, fn: RewardFn, options: RegisterOptions = {}): RewardFn {
  const { dataSources = [], override, paper, summary } = options;
  rewards.add(name, fn, { override, paper, summary });
  for (const s of dataSources) routeDataSource(s, name);
  return fn;
}

/**
 * Route a data source (exact name, case-insensitive, or a RegExp) to a registered reward name.
 * @example reward.routeDataSource("my-lab/algebra-v2", "math"); reward.routeDataSource(/^my-lab\//, "math")
 */
export function routeDataSource(source: string | RegExp, rewardName: string): void {
  if (typeof rewardName !== "string" || rewardName.length === 0)
    fail(
      "invalid_option",
      `reward.routeDataSource: rewardName must be a registered reward name (got ${String(rewardName)}).`,
      {},
      routeDataSource,
    );
  if (typeof source === "string") exactRoutes.set(source.toLowerCase(), { source, reward: rewardName });
  else if (source instanceof RegExp) patternRoutes.push({ match: source, reward: rewardName });
  else
    fail(
      "invalid_option",
      `reward.routeDataSource: source must be a string or a RegExp (got ${typeof source}).`,
      {},
      routeDataSource,
    );
}

/** The reward name a data source routes to, or undefined when no route matches. */
export function routeOf(dataSource: string): string | undefined {
  const exact = exactRoutes.get(dataSource.toLowerCase());
  if (exact !== undefined) return exact.reward;
  for (let i = patternRoutes.length - 1; i >= 0; i--) {
    const rule = patternRoutes[i];
    (rule.match as RegExp).lastIndex = 0;
    if ((rule.match as RegExp).test(dataSource)) return rule.reward;
  }
  return undefined;
}

/** Known routes as rows `{source, reward}` (exact names first, then patterns). */
export function routes(): { source: string; reward: string }[] {
  return [
    ...[...exactRoutes.values()].map(({ source, reward }) => ({ source, reward })),
    ...patternRoutes.map((r) => ({ source: String(r.match), reward: r.reward })),
  ];
}

/**
 * The reward for a data source; unknown sources fail with the known ones and how to register.
 * @example reward.rewardFor("openai/gsm8k") // the "gsm8k" RewardFn
 */
export function rewardFor(dataSource: string): { name: string; fn: RewardFn } {
  const name = routeOf(dataSource);
  if (name === undefined) {
    const known = [...exactRoutes.values()].map((r) => r.source);
    const near = nearest(dataSource, known);
    return fail(
      "unknown_name",
      `reward.score: no reward for data_source ${JSON.stringify(dataSource)} (known: ${known.join(", ")}; patterns: ` +
        `${patternRoutes.map((r) => String(r.match)).join(", ")}).` +
        (near ? ` Did you mean "${near}"?` : "") +
        ` Route it with reward.routeDataSource(${JSON.stringify(dataSource)}, "math"), register a reward with ` +
        `reward.register(name, fn, {dataSources: [${JSON.stringify(dataSource)}]}), or pass {reward: "math"} ` +
        `to score().`,
      { got: dataSource, expected: known, path: ["data_source"] },
    );
  }
  if (!rewards.has(name))
    return fail(
      "not_found",
      `reward.score: data_source ${JSON.stringify(dataSource)} routes to reward "${name}", which is not registered ` +
        `(registered: ${rewards.names().join(", ")}). ` +
        (name === "code"
          ? "The code reward registers when lib/reward/code.ts loads; import cellrl's reward namespace."
          : `Register it with reward.register("${name}", fn).`),
      { got: name, expected: rewards.names(), path: ["data_source"] },
    );
  return { name, fn: rewards.get(name) };
}

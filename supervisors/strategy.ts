/**
 * Which children restart with a failed one.
 * - one-for-one: the failed child only.
 * - one-for-all: every child.
 * - rest-for-one: the failed child and every child started after it.
 */
export type Strategy = "one-for-one" | "one-for-all" | "rest-for-one";

/** The children to restart, in start order, given every child id in start order. */
export function affectedChildren(strategy: Strategy, order: readonly string[], failedId: string): string[] {
  switch (strategy) {
    case "one-for-one":
      return [failedId];
    case "one-for-all":
      return [...order];
    case "rest-for-one":
      return order.slice(order.indexOf(failedId));
  }
}

import type { Logger } from "pino";
import type { RagApi } from "../../../actors/index.js";
import type { ResolvedHttpOptions } from "../options.js";

/** What every route module is registered with. */
export interface RouteContext {
  api: RagApi;
  options: Readonly<ResolvedHttpOptions>;
  log: Logger;
  /** Unix seconds when the bridge was built: the `created` of the models it lists. */
  startedAt: number;
}

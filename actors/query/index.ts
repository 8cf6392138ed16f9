/** The query coordinator's public surface: fusing the shards' hit lists, and the pooled coordinator actor. */
export { fuse, DEFAULT_RRF_K } from "./fusion.js";
export type { FuseOptions, FusedHit, FusionWeights } from "./fusion.js";
export { COORDINATOR_KIND, CoordinatorConfigSchema, CoordinatorKind, coordinatorActor } from "./coordinator.js";
export type { AppliedShard, CoordinatorConfig, CoordinatorConfigInput, QueryAnswer } from "./coordinator.js";
export { groupByDocument } from "./by-document.js";
export type { DocumentHit } from "./by-document.js";

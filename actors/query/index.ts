/** The query coordinator's public surface (so far): fusing the shards' hit lists. */
export { fuse, DEFAULT_RRF_K } from "./fusion.js";
export type { FuseOptions, FusedHit } from "./fusion.js";

/**
 * Who may do what at the edge, in one table: each route needs one
 * permission, and each caller role grants a set of them. A /v1 route missing
 * from the table needs `admin`, so a route added without a line here is
 * closed rather than open.
 */
export const CALLER_ROLES = ["reader", "writer", "admin"] as const;
export type CallerRole = (typeof CALLER_ROLES)[number];

export type Permission = "read" | "write" | "admin";

const GRANTS: Readonly<Record<CallerRole, ReadonlySet<Permission>>> = {
  reader: new Set(["read"]),
  writer: new Set(["read", "write"]),
  admin: new Set(["read", "write", "admin"]),
};

/** `METHOD /pattern` (fastify's route pattern) → the permission it needs. */
export const ROUTE_PERMISSIONS: Readonly<Record<string, Permission>> = {
  "POST /v1/query": "read",
  "POST /v1/chat/completions": "read",
  "POST /v1/embeddings": "read",
  "GET /v1/models": "read",
  "GET /v1/models/:model": "read",
  "GET /v1/documents/:id": "read",
  "POST /v1/documents": "write",
  "DELETE /v1/documents/:id": "write",
  // What `colmena ingest` follows after storing, with the writer's key it stored with.
  "GET /v1/ingest": "write",
  "GET /v1/status": "admin",
  "GET /v1/keys": "admin",
  "POST /v1/keys": "admin",
  "DELETE /v1/keys/:id": "admin",
  "GET /metrics": "admin",
};

export function permissionFor(method: string, pattern: string): Permission {
  return ROUTE_PERMISSIONS[`${method} ${pattern}`] ?? "admin";
}

export function grants(role: CallerRole, permission: Permission): boolean {
  return GRANTS[role].has(permission);
}

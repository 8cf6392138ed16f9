import { writeFile } from "node:fs/promises";
import { exportJWK, exportSPKI, generateKeyPair, SignJWT, type JWTPayload } from "jose";

export const ISSUER = "https://issuer.test";
export const AUDIENCE = "colmena-test";

/** An RS256 signer whose public key is in a JWKS file, and another pair the JWKS does not hold (for bad signatures). */
export interface TokenMint {
  jwksFile: string;
  sign(claims: JWTPayload, options?: { issuer?: string; audience?: string; expiresIn?: string | number; notBefore?: string | number; stranger?: boolean }): Promise<string>;
  /** A token with `alg: none` and no signature. */
  unsigned(claims: JWTPayload): string;
  /** HS256 "signed" with the public key's PEM as the secret: the algorithm-confusion attack. */
  hmacWithPublicKey(claims: JWTPayload): Promise<string>;
}

export async function tokenMint(jwksFile: string): Promise<TokenMint> {
  const mine = await generateKeyPair("RS256", { extractable: true });
  const stranger = await generateKeyPair("RS256", { extractable: true });
  const jwk = { ...(await exportJWK(mine.publicKey)), kid: "k1", alg: "RS256", use: "sig" };
  await writeFile(jwksFile, JSON.stringify({ keys: [jwk] }));
  const pem = await exportSPKI(mine.publicKey);
  const now = () => Math.floor(Date.now() / 1000);
  const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString("base64url");
  const standard = (claims: JWTPayload) => ({ iss: ISSUER, aud: AUDIENCE, iat: now(), exp: now() + 600, ...claims });
  return {
    jwksFile,
    async sign(claims, o = {}) {
      const jwt = new SignJWT(claims)
        .setProtectedHeader({ alg: "RS256", kid: "k1" })
        .setIssuer(o.issuer ?? ISSUER)
        .setAudience(o.audience ?? AUDIENCE)
        .setIssuedAt()
        .setExpirationTime(o.expiresIn ?? "10m");
      if (o.notBefore !== undefined) jwt.setNotBefore(o.notBefore);
      return jwt.sign(o.stranger ? stranger.privateKey : mine.privateKey);
    },
    unsigned: (claims) => `${b64({ alg: "none", typ: "JWT" })}.${b64(standard(claims))}.`,
    hmacWithPublicKey: (claims) => new SignJWT(standard(claims)).setProtectedHeader({ alg: "HS256", kid: "k1" }).sign(new TextEncoder().encode(pem)),
  };
}

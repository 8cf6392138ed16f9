/**
 * Float32 vectors as base64 of their little-endian bytes: OpenAI's
 * `encoding_format: "base64"` (which its clients ask for by default), also
 * what the NATS embed endpoint's binary encoding carries as raw bytes.
 */

export function float32Bytes(vector: Float32Array): Buffer {
  const bytes = Buffer.allocUnsafe(vector.length * 4);
  for (let i = 0; i < vector.length; i++) bytes.writeFloatLE(vector[i]!, i * 4);
  return bytes;
}

export function float32ToBase64(vector: Float32Array): string {
  return float32Bytes(vector).toString("base64");
}

export function float32FromBytes(bytes: Uint8Array): Float32Array {
  if (bytes.byteLength % 4 !== 0) throw new RangeError(`a float32 vector needs a multiple of 4 bytes, got ${bytes.byteLength}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Float32Array(bytes.byteLength / 4);
  for (let i = 0; i < out.length; i++) out[i] = view.getFloat32(i * 4, true);
  return out;
}

export function float32FromBase64(text: string): Float32Array {
  return float32FromBytes(Buffer.from(text, "base64"));
}

/**
 * The KV-cache interface of a decoder export (Hugging Face Optimum naming):
 * inputs input_ids, attention_mask, optional position_ids and
 * past_key_values.N.key / .value [batch, kv_heads, past_sequence_length, head_dim];
 * outputs logits and present.N.key / .value. The layer count comes from the
 * input names; kv heads and head dim from the input shapes, or from config.json
 * where the shapes are symbolic or absent.
 */
import type { ValueInfo } from "../inference/index.js";
import { invalid } from "../../runtime/index.js";
import type { Json } from "./model-files.js";

export interface KvLayout {
  layers: number;
  kvHeads: number;
  headDim: number;
  hasPositionIds: boolean;
}

const PAST = /^past_key_values\.(\d+)\.(key|value)$/;

export const pastName = (layer: number, kind: "key" | "value") => `past_key_values.${layer}.${kind}`;
export const presentName = (layer: number, kind: "key" | "value") => `present.${layer}.${kind}`;

/** Reads and checks the layout; anything else than the interface above is INVALID, naming the model path. */
export function kvLayout(
  inputs: readonly ValueInfo[],
  outputs: readonly ValueInfo[],
  config: Json,
  modelPath: string,
): KvLayout {
  const fail = (why: string) => invalid(`${modelPath} is not a decoder export with a KV cache: ${why}`, { path: modelPath });
  const names = new Set(inputs.map((m) => m.name));
  for (const name of names) {
    if (!["input_ids", "attention_mask", "position_ids"].includes(name) && !PAST.test(name)) throw fail(`unexpected input ${name}`);
  }
  if (!names.has("input_ids") || !names.has("attention_mask")) throw fail("input_ids and attention_mask are required");
  const layers = [...names].filter((n) => n.endsWith(".key") && PAST.test(n)).length;
  if (layers === 0) throw fail("no past_key_values inputs");
  const outputNames = new Set(outputs.map((m) => m.name));
  for (let l = 0; l < layers; l++) {
    for (const kind of ["key", "value"] as const) {
      if (!names.has(pastName(l, kind))) throw fail(`missing input ${pastName(l, kind)}`);
      if (!outputNames.has(presentName(l, kind))) throw fail(`missing output ${presentName(l, kind)}`);
    }
  }
  for (const m of [...inputs, ...outputs]) {
    if ((m.name === "logits" || PAST.test(m.name) || m.name.startsWith("present.")) && m.isTensor && m.type !== "float32") {
      throw fail(`${m.name} is ${m.type}; only float32 logits and caches are supported`);
    }
  }
  if (!outputNames.has("logits")) throw fail("missing output logits");

  const past = inputs.find((m) => m.name === pastName(0, "key"));
  const shape = past?.isTensor ? past.shape : [];
  const kvHeads = fixedDim(shape[1]) ?? configKvHeads(config);
  const headDim = fixedDim(shape[3]) ?? configHeadDim(config);
  if (kvHeads === undefined || headDim === undefined) {
    throw fail("kv heads and head dim are symbolic in the graph and absent from config.json");
  }
  return { layers, kvHeads, headDim, hasPositionIds: names.has("position_ids") };
}

const fixedDim = (d: number | string | undefined) => (typeof d === "number" && d > 0 ? d : undefined);
const positiveInt = (v: unknown) => (Number.isInteger(v) && (v as number) > 0 ? (v as number) : undefined);

function configKvHeads(config: Json): number | undefined {
  return positiveInt(config.num_key_value_heads) ?? positiveInt(config.num_attention_heads);
}

function configHeadDim(config: Json): number | undefined {
  const explicit = positiveInt(config.head_dim);
  if (explicit !== undefined) return explicit;
  const hidden = positiveInt(config.hidden_size);
  const heads = positiveInt(config.num_attention_heads);
  return hidden !== undefined && heads !== undefined && hidden % heads === 0 ? hidden / heads : undefined;
}

import assert from "node:assert/strict";
import { test } from "node:test";
import { chunk } from "../../actors/ingest/index.js";
import { cleanMarkdown } from "../../actors/ingest/markdown-clean.js";

const GITBOOK = `---
description: Streams
title: "Managing streams"
---

# Streams

<!-- a note for editors
over two lines -->
Read [the \\_guide\\_](../guide.md "Guide") and ![diagram](img.png) for **more** _detail_.

{% tabs %}
{% tab title="CLI" %}
\`\`\`shell
nats stream add ORDERS --subjects "ORDERS.*"
  # [not a link](x) **kept** in code
\`\`\`
{% endtab %}
{% endtabs %}

{% hint style="info" %}
> Use \`max_payload\` with <b>care</b>.
{% endhint %}

| Property | Description |
| :--- | :--- |
| \`max_payload\` | Maximum payload. Default is 1MB. |

[guide]: https://example.com/guide
`;

test("ingest - GitBook markup, front matter, comments and links reduce to text; code stays verbatim", () => {
  const { text, title } = cleanMarkdown(GITBOOK);
  assert.equal(title, "Managing streams", "front matter gives the title");
  assert.equal(
    text,
    [
      "# Streams",
      "",
      "Read the _guide_ and diagram for more detail.",
      "",
      "```shell",
      'nats stream add ORDERS --subjects "ORDERS.*"',
      "  # [not a link](x) **kept** in code",
      "```",
      "",
      "Use `max_payload` with care.",
      "",
      "Property: Description",
      "`max_payload`: Maximum payload. Default is 1MB.",
    ].join("\n"),
  );
});

test("ingest - Docusaurus admonitions and MkDocs markers go, their content stays", () => {
  const md = ':::note Heads up\nKeep it short.\n:::\n\n!!! warning "Careful"\n    Indented body.\n\n=== "Go"\n\n<Tabs><TabItem value="go">Go text</TabItem></Tabs>';
  const { text, title } = cleanMarkdown(md);
  assert.equal(title, undefined);
  assert.ok(!/:::|!!!|===|<Tab/.test(text), text);
  for (const kept of ["Keep it short.", "Careful", "Indented body.", "Go text"]) assert.ok(text.includes(kept), kept);
});

test("ingest - markdown chunks carry the cleaned text and the title; plain text is left alone", () => {
  const pieces = chunk("# Title\n\nSee [docs](http://x) {% hint %}now{% endhint %}.", { maxChars: 100, overlapChars: 0, markdown: true });
  assert.deepEqual(pieces, [{ text: "# Title\n\nSee docs now.", ordinal: 0, heading: "Title", title: "Title" }]);
  assert.deepEqual(chunk("See [docs](http://x).", { maxChars: 100, overlapChars: 0 }), [{ text: "See [docs](http://x).", ordinal: 0 }]);
});

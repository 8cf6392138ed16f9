import assert from "node:assert/strict";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { connect } from "@nats-io/transport-node";
import { freePortBlock, jetStreamManagerOf, startNatsServer, type NatsServer } from "../../nats/index.js";
import { runColmena } from "../helpers/colmena-process.js";
import { waitFor } from "../helpers/wait.js";

const dirs: string[] = [];
const servers: NatsServer[] = [];
after(async () => {
  await Promise.all(servers.map((s) => s.stop()));
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

test("colmena nats config - three servers started from its files form a JetStream cluster that keeps three replicas, each with its monitoring port", async () => {
  const dir = await mkdtemp(join(tmpdir(), "colmena-nats-config-"));
  dirs.push(dir);
  const base = await freePortBlock(9);
  const made = await runColmena(["nats", "config", "--out", dir, "--name", "cfgtest", "--client-port", String(base), "--cluster-port", String(base + 3), "--monitor-port", String(base + 6)]);
  assert.equal(made.code, 0, made.stderr);
  const urls = `nats://127.0.0.1:${base},nats://127.0.0.1:${base + 1},nats://127.0.0.1:${base + 2}`;
  assert.match(made.stdout, new RegExp(`--nats ${urls}`), "it prints the list nodes join with");
  for (let i = 0; i < 3; i++) {
    const file = join(dir, `cfgtest-${i}.conf`);
    const text = await readFile(file, "utf8");
    assert.match(text, new RegExp(`server_name: "cfgtest-${i}"`));
    assert.match(made.stdout, new RegExp(`nats-server -c ${file}`));
    // The file alone configures the server: nats-server -c FILE, nothing else.
    servers.push(await startNatsServer({ storeDir: join(dir, "jetstream", `cfgtest-${i}`), port: base + i, configFile: file }));
  }
  const nc = await connect({ servers: urls.split(",") });
  try {
    const ready = () => jetStreamManagerOf(nc).then(async (j) => (await j.getAccountInfo(), true), () => false);
    await waitFor("a JetStream meta leader", async () => (await ready()) && (nc.info?.connect_urls?.length ?? 0) >= 3);
    const jsm = await jetStreamManagerOf(nc);
    const info = await jsm.streams.add({ name: "cfg-r3", subjects: ["cfg.r3"], num_replicas: 3 });
    assert.equal(info.config.num_replicas, 3);
    await waitFor("all three replicas current", async () => {
      const s = await jsm.streams.info("cfg-r3");
      return s.cluster?.leader !== undefined && (s.cluster?.replicas ?? []).filter((r) => r.current).length === 2;
    });
    for (let i = 0; i < 3; i++) {
      const res = await fetch(`http://127.0.0.1:${base + 6 + i}/varz`);
      const varz = (await res.json()) as { server_name: string; cluster: { name: string } };
      assert.equal(varz.server_name, `cfgtest-${i}`);
      assert.equal(varz.cluster.name, "cfgtest");
    }
  } finally {
    await nc.close();
  }
});

test("colmena nats config - bad flags are refused with a message naming the flag, and nothing is written", async () => {
  const dir = await mkdtemp(join(tmpdir(), "colmena-nats-config-bad-"));
  dirs.push(dir);
  const cases: Array<[string[], RegExp]> = [
    [["--servers", "2"], /--servers: a JetStream cluster needs 3 to 15 servers/],
    [["--servers", "x"], /--servers must be a whole number/],
    [["--hosts", "a.example,b.example"], /--hosts: give one host for every server, or one for all/],
    [["--hosts", "a.example,a.example,b.example"], /--hosts: a host is named twice/],
    [["--hosts", "bad host,b,c"], /--hosts: not a host name or address/],
    [["--client-port", "70000"], /--client-port must be a port from 1 to 65535/],
    [["--client-port", "65534"], /--client-port: a port from 1 such that 3 consecutive ones fit/],
    [["--client-port", "6221"], /--cluster-port: its ports 6222\.\.6224 overlap --client-port's 6221\.\.6223/],
    [["--name", "two words"], /--name: letters, digits/],
    [["--store-dir", 'a"b'], /--store-dir: a directory path with no quotes/],
  ];
  for (const [flags, message] of cases) {
    const out = join(dir, "out");
    const r = await runColmena(["nats", "config", "--out", out, ...flags]);
    assert.equal(r.code, 1, `${flags.join(" ")}: ${r.stdout}`);
    assert.match(r.stderr, message, flags.join(" "));
    await assert.rejects(readFile(join(out, "colmena-0.conf")), `${flags.join(" ")} wrote nothing`);
  }
  const missing = await runColmena(["nats", "config"]);
  assert.notEqual(missing.code, 0);
  assert.match(missing.stderr, /--out/);
});

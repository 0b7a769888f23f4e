// An auditor's own check of a plantagent audit bundle, without Python: Node.js 20 and its
// built-in crypto only. Usage: node verify_bundle.mjs BUNDLE.jsonl SITE-KEYS.json
//
// Checks, from the bundle and the site's public keys (`plantagent keys export-public`):
//  1. the hash chain: every record names the hash of the one before (the first, the
//     genesis hash of the log id), and every version-2 record's hash is recomputed from
//     its content: SHA-256(0x00 || RFC 8785 canonical JSON of its body);
//  2. every checkpoint: its RFC 6962 Merkle root recomputed from the records' leaf hashes,
//     and the Ed25519 half of its hybrid signature over the canonical statement, under
//     the audit key in force at its size (the chain of signed key rotations);
//  3. every personal signature (approvals, denials, executions, register changes): the
//     Ed25519 half over the canonical statement, under the person's key as enrolled in
//     the same (signed) log.
// Not checked here: the ML-DSA-65 halves (Node 20 has no ML-DSA; OpenSSL 3.5 does), and
// the content of version-1 records (written before RFC 8785 records, or holding an
// integer no double holds): their number encoding is Python's. They are counted.
import { readFileSync } from "node:fs";
import { createHash, createPublicKey, verify } from "node:crypto";

const [bundlePath, keysPath, notePath] = process.argv.slice(2);
if (!bundlePath || !keysPath) {
  console.error("usage: node verify_bundle.mjs BUNDLE.jsonl SITE-KEYS.json [CHECKPOINT.note]");
  process.exit(2);
}
const problems = [];
const lines = readFileSync(bundlePath, "utf8").split("\n").filter((l) => l.trim());
const items = lines.map((l) => JSON.parse(l));
const header = items.find((i) => i.type === "header");
const records = items.filter((i) => i.type === "record").sort((a, b) => a.seq - b.seq);
const checkpoints = items.filter((i) => i.type === "checkpoint");
const siteKeys = JSON.parse(readFileSync(keysPath, "utf8"));

// RFC 8785 (JCS), written here independently of plantagent's Python: keys sorted by
// UTF-16 code units (what Array.prototype.sort compares), no whitespace, and strings and
// numbers as JSON.stringify writes them (ECMAScript's Number-to-String is JCS's rule).
const canon = (v) => {
  if (Array.isArray(v)) return "[" + v.map(canon).join(",") + "]";
  if (v !== null && typeof v === "object") {
    return "{" + Object.keys(v).sort().map((k) => JSON.stringify(k) + ":" + canon(v[k])).join(",") + "}";
  }
  return JSON.stringify(v);
};
const sha256 = (...parts) => { const h = createHash("sha256"); parts.forEach((p) => h.update(p)); return h.digest(); };
const ed25519Key = (raw) => createPublicKey({
  key: Buffer.concat([Buffer.from("302a300506032b6570032100", "hex"), raw]), format: "der", type: "spki" });
// A hybrid signature: "PAS1", two big-endian lengths, the Ed25519 then the ML-DSA-65 part.
const edPart = (b64) => {
  const raw = Buffer.from(b64, "base64");
  if (raw.subarray(0, 4).toString("latin1") !== "PAS1") return null;
  const edLen = raw.readUInt16BE(4);
  return raw.subarray(8, 8 + edLen);
};
// Python's format_ts: microseconds, always six digits, then Z.
const canonicalTs = (iso) => {
  const m = iso.match(/^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(?:Z|\+00:00)$/);
  return m ? `${m[1]}.${(m[2] || "").padEnd(6, "0").slice(0, 6)}Z` : iso;
};

// 1. The chain, and the content of every RFC 8785 (version 2) record.
let prev = sha256(Buffer.from("plantagent-audit-genesis\0"), Buffer.from(header.log_id, "ascii")).toString("hex");
let contentChecked = 0;
records.forEach((r, i) => {
  if (r.seq !== i + 1) problems.push(`record ${r.seq}: expected seq ${i + 1}`);
  if (r.prev_hash !== prev) problems.push(`record ${r.seq}: does not name the hash of record ${r.seq - 1}`);
  const version = r.version ?? 1;
  if (version === 2) {
    const body = { v: 2, seq: r.seq, ts: r.ts, kind: r.kind, actor: r.actor, role: r.role,
      tool: r.tool, equipment: r.equipment, payload: r.payload, prev: r.prev_hash };
    if (sha256(Buffer.from([0]), Buffer.from(canon(body), "utf8")).toString("hex") !== r.hash) {
      problems.push(`record ${r.seq}: its content does not hash to its hash (altered)`);
    } else contentChecked += 1;
  } else if (version !== 1) problems.push(`record ${r.seq}: unknown record version ${version}`);
  prev = r.hash;
});

// 2. Checkpoints: Merkle root (RFC 6962) and the site's Ed25519 signature.
const leaves = records.map((r) => Buffer.from(r.hash, "hex"));
const root = (hs) => {
  if (hs.length === 0) return sha256(Buffer.alloc(0));
  if (hs.length === 1) return hs[0];
  let k = 1; while (k * 2 < hs.length) k *= 2;
  return sha256(Buffer.from([1]), root(hs.slice(0, k)), root(hs.slice(k)));
};
const siteKey = ed25519Key(Buffer.from(siteKeys.ed25519, "base64"));
// The chain of audit signing keys: each rotation record (key_change, audit_key_rotated)
// is signed by the key it replaces and by the new key; key i signs tree sizes from the
// seq of the rotation that made it to the seq of the one that retired it. The key file
// given must be one link of the chain.
const fingerprint = (pub) => sha256(Buffer.from("plantagent-keys\0"), Buffer.from(pub.ed25519, "base64"),
  Buffer.from(pub.mldsa65, "base64")).toString("hex");
const siteFp = fingerprint(siteKeys);
const spans = [];
for (const r of records) {
  const p = r.payload;
  if (r.kind !== "key_change" || p.event !== "audit_key_rotated") continue;
  const st = p.statement, oldPub = p.old_public, newPub = p.new_public;
  let sound = false, oldFp = "", newFp = "", oldKey = null, newKey = null;
  try {
    oldFp = fingerprint(oldPub); newFp = fingerprint(newPub);
    oldKey = ed25519Key(Buffer.from(oldPub.ed25519, "base64")); newKey = ed25519Key(Buffer.from(newPub.ed25519, "base64"));
    const msg = Buffer.from(canon(st));
    const s1 = edPart(p.old_signature), s2 = edPart(p.new_signature);
    sound = st.type === "plantagent-audit-key-rotation/v1" && st.log_id === header.log_id && st.old_key === oldFp &&
      st.new_key === newFp && !!s1 && !!s2 && verify(null, msg, oldKey, s1) && verify(null, msg, newKey, s2);
  } catch { sound = false; }
  if (!sound) { problems.push(`record ${r.seq}: a rotation of the audit key not signed by the key it replaces and the new key (forged)`); continue; }
  if (spans.length && spans[spans.length - 1].fp !== oldFp) { problems.push(`record ${r.seq}: a rotation from a key that was not the audit key then`); continue; }
  if (!spans.length) spans.push({ fp: oldFp, key: oldKey, first: 0, last: null });
  spans[spans.length - 1].last = r.seq;
  spans.push({ fp: newFp, key: newKey, first: r.seq, last: null });
}
if (!spans.length) spans.push({ fp: siteFp, key: siteKey, first: 0, last: null });
if (!spans.some((k) => k.fp === siteFp)) problems.push("the site keys given are not in the log's chain of audit signing keys");
for (const cp of checkpoints) {
  if (cp.tree_size > leaves.length) { problems.push(`checkpoint ${cp.tree_size}: more records than the bundle holds`); continue; }
  if (root(leaves.slice(0, cp.tree_size)).toString("hex") !== cp.root_hash) problems.push(`checkpoint ${cp.tree_size}: the Merkle root does not match the records`);
  const statement = canon({ type: "plantagent-audit-checkpoint/v1", log_id: cp.log_id, tree_size: cp.tree_size,
    root: cp.root_hash, ts: canonicalTs(cp.ts), key_id: cp.key_id });
  const span = spans.find((k) => k.fp === cp.key_id);
  if (!span) { problems.push(`checkpoint ${cp.tree_size}: signed by key ${cp.key_id.slice(0, 16)}, not in the chain of audit keys`); continue; }
  if (cp.tree_size < span.first || (span.last !== null && cp.tree_size > span.last)) { problems.push(`checkpoint ${cp.tree_size}: signed by key ${cp.key_id.slice(0, 16)} outside the time it was the audit key`); continue; }
  const sig = edPart(cp.signature);
  if (!sig || !verify(null, Buffer.from(statement), span.key, sig)) problems.push(`checkpoint ${cp.tree_size}: the site's Ed25519 signature does not verify`);
}
const covered = Math.max(0, ...checkpoints.map((c) => c.tree_size));
if (covered < records.length) problems.push(`records ${covered + 1}..${records.length} are not covered by a signed checkpoint`);

// 3. Personal signatures, under the keys the log's register changes enrolled.
const personKeys = new Map(); // fingerprint -> {person, key}
let personal = 0; const signers = new Set();
for (const r of records) {
  const p = r.payload;
  const signed = p.signed;
  if (signed && typeof signed === "object") {
    const entry = personKeys.get(signed.key);
    if (!entry) problems.push(`record ${r.seq}: signed by key ${String(signed.key).slice(0, 16)}, enrolled nowhere before it`);
    else if (entry.person !== signed.statement.person) problems.push(`record ${r.seq}: key of ${entry.person} used for ${signed.statement.person}`);
    else {
      const msg = Buffer.from(canon({ key: signed.key, statement: signed.statement }));
      const sig = edPart(signed.signature);
      if (!sig || !verify(null, msg, entry.key, sig)) problems.push(`record ${r.seq}: the personal signature of ${entry.person} does not verify`);
      else { personal += 1; signers.add(entry.person); }
    }
  }
  if (p.event === "people" && p.record && Array.isArray(p.record.keys)) {
    for (const k of p.record.keys) personKeys.set(k.fingerprint, { person: p.person, key: ed25519Key(Buffer.from(k.ed25519, "base64")) });
  }
}

// 4. A C2SP signed-note checkpoint (`plantagent audit checkpoint --note FILE`): its
//    Ed25519 line under the site key, and its size and root against the records.
let noteLine = "";
if (notePath) {
  const text = readFileSync(notePath, "utf8");
  const split = text.indexOf("\n\n");
  const body = text.slice(0, split + 1);
  const [origin, size, rootB64] = body.split("\n");
  const raw = Buffer.from(siteKeys.ed25519, "base64");
  const hash = sha256(Buffer.from(origin + "\n"), Buffer.from([1]), raw).subarray(0, 4);
  const sigs = text.slice(split + 2).split("\n").filter((l) => l.startsWith("\u2014 " + origin + " "));
  const ok = sigs.some((l) => {
    const blob = Buffer.from(l.split(" ")[2], "base64");
    return blob.subarray(0, 4).equals(hash) && verify(null, Buffer.from(body), siteKey, blob.subarray(4));
  });
  if (!ok) problems.push("the checkpoint note has no valid Ed25519 signature of the site");
  const n = Number(size);
  if (!(n <= leaves.length) || root(leaves.slice(0, n)).toString("base64") !== rootB64) problems.push("the checkpoint note does not match the records");
  noteLine = `; signed note ${origin} at size ${n} verified`;
}

if (problems.length) {
  console.log(`bundle NOT verified (${problems.length} problem(s)):`);
  problems.forEach((p) => console.log(`  ${p}`));
  process.exit(1);
}
const keysLine = spans.length > 1 ? `, ${spans.length} audit keys chained by ${spans.length - 1} signed rotation(s)` : "";
console.log(`bundle verified: ${records.length} records chained (${contentChecked} hashed from their RFC 8785 content, ` +
  `${records.length - contentChecked} version-1), ${checkpoints.length} checkpoint(s) ` +
  `(Merkle root and site Ed25519 signature), ${personal} personal signature(s) by ${[...signers].sort().join(", ") || "nobody"}${keysLine}${noteLine}`);

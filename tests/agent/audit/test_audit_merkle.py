"""The Merkle tree: RFC 6962 roots, inclusion and consistency proofs."""

from __future__ import annotations

import hashlib

from agent.audit.merkle import (
    EMPTY_ROOT,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    node_hash,
    root_of,
    verify_consistency,
    verify_inclusion,
)


def reference_root(leaves: list[bytes]) -> bytes:
    """MTH straight from RFC 6962 section 2.1."""
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return leaves[0]
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return node_hash(reference_root(leaves[:k]), reference_root(leaves[k:]))


def leaves(n: int) -> list[bytes]:
    return [leaf_hash(f"record {i}".encode()) for i in range(n)]


def test_hashes_are_domain_separated() -> None:
    assert leaf_hash(b"x") == hashlib.sha256(b"\x00x").digest()
    assert node_hash(b"a", b"b") == hashlib.sha256(b"\x01ab").digest()
    assert root_of([]) == EMPTY_ROOT


def test_incremental_root_matches_the_rfc_definition() -> None:
    for n in range(1, 70):
        assert root_of(leaves(n)) == reference_root(leaves(n)), n


def test_inclusion_proofs_verify_and_reject_other_leaves() -> None:
    for n in (1, 2, 3, 5, 8, 13, 33):
        tree = leaves(n)
        root = root_of(tree)
        for i in range(n):
            proof = inclusion_proof(tree, i)
            assert verify_inclusion(tree[i], i, n, proof, root)
            assert not verify_inclusion(leaf_hash(b"forged"), i, n, proof, root)
            if n > 1:
                assert not verify_inclusion(tree[i], (i + 1) % n, n, proof, root)


def test_consistency_proofs_verify_prefixes_only() -> None:
    for n in (2, 3, 7, 8, 9, 20):
        tree = leaves(n)
        for m in range(1, n + 1):
            proof = consistency_proof(tree, m)
            assert verify_consistency(m, n, root_of(tree[:m]), root_of(tree), proof)
            if m < n:
                rewritten = [*tree[: m - 1], leaf_hash(b"rewritten")]
                assert not verify_consistency(m, n, root_of(rewritten), root_of(tree), proof)

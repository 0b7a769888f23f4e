"""A writer process for the crash test: appends forever, acknowledging each record.

After ``append`` returns it prints ``<seq> <hash>`` and flushes, so every line the parent
reads is a record the log promised to keep. The parent kills it with SIGKILL.
Arguments: database path, key file (hex), signing seed file (hex), export directory, and
optionally the number of appending threads (their records are group-committed).
"""

from __future__ import annotations

import os
import sys
import threading
from pathlib import Path

from agent.audit import AuditLog
from agent.audit.vault_keys import VaultSigner
from agent.vault import open_database
from agent.vault.signing import Signer, SigningKeys


def main() -> None:
    db, key_file, seed_file, export = (Path(a) for a in sys.argv[1:5])
    key = bytes.fromhex(key_file.read_text())
    signer = VaultSigner(
        Signer(SigningKeys.from_seeds(bytes.fromhex(seed_file.read_text())), "cd" * 16)
    )
    log = AuditLog.open(
        lambda: open_database(db, key, create=True, synchronous_full=True),
        signer,
        signer.verifier(),
        checkpoint_every=7,
        export_dir=export,
    )
    threads = int(sys.argv[5]) if len(sys.argv) > 5 else 1
    out = sys.stdout
    lock = threading.Lock()

    def append_forever(k: int) -> None:
        i = 0
        while True:
            record = log.append(
                "tool_result",
                f"writer-{k}",
                {"pid": os.getpid(), "thread": k, "i": i, "pad": "x" * (i % 300)},
                tool="read_tags",
            )
            with lock:  # one whole line per ack
                out.write(f"{record.seq} {record.hash}\n")
                out.flush()
            i += 1

    for k in range(1, threads):
        threading.Thread(target=append_forever, args=(k,), daemon=True).start()
    append_forever(0)

if __name__ == "__main__":
    main()

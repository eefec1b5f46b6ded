"""What a fault run prints: its steps (`[run +12.3s] ...`), one line per invariant
(`INVARIANT PASS|FAIL <run>: <invariant> (<detail>)`, which `faults/run` collects) and the
result."""

import time


class Report:
    def __init__(self, run: str):
        self.run = run
        self.started = time.monotonic()
        self.results: list[tuple[str, bool, str]] = []

    def step(self, message: str) -> None:
        print(f"[{self.run} +{time.monotonic() - self.started:6.1f}s] {message}", flush=True)

    def check(self, invariant: str, ok: bool, detail: str = "") -> bool:
        self.results.append((invariant, bool(ok), detail))
        verdict = "PASS" if ok else "FAIL"
        suffix = f" ({detail})" if detail else ""
        print(f"INVARIANT {verdict} {self.run}: {invariant}{suffix}", flush=True)
        return ok

    def finish(self) -> int:
        failed = [r for r in self.results if not r[1]]
        elapsed = time.monotonic() - self.started
        if not self.results:
            print(f"RESULT FAIL {self.run}: no invariant was checked ({elapsed:.0f}s)", flush=True)
            return 1
        verdict = "FAIL" if failed else "PASS"
        print(
            f"RESULT {verdict} {self.run}: {len(self.results) - len(failed)}/{len(self.results)}"
            f" invariants held ({elapsed:.0f}s)",
            flush=True,
        )
        return 1 if failed else 0

"""The reliability attempts: every failure a red-team pass found (issue 17), tried again
against throw-away sites, each reporting whether the product held (detected or refused
it, nothing acknowledged lost). `plantagent reliability` runs them and lists them by
area; tests/harness/reliability runs each as a test. Loopback only; the attempts that
need namespaces or a small disk run as root and say so otherwise."""

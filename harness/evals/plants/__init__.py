"""The evaluation on the test plants: ground truth per plant (the .toml suites), the
checker, the runner and the report of `plantagent eval plants`."""

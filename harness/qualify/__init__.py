"""Model qualification: run the evaluation suites against one model, judge the result
against the site's policy, keep the record, and refuse unqualified models when asked."""

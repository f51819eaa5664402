# An expiry without a time zone is not RFC 3339.

environment "load-test" {
  owner   = "perf-team@example.internal"
  expires = "2026-12-04 18:00" # expect: error format::timestamp
}

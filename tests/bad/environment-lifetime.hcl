# An environment with both a fixed expiry and a ttl.

environment "pr-4711" {
  owner   = "j.wegrzyn"
  expires = "2026-12-01T00:00:00Z"
  ttl     = "48h" # expect: error environment::lifetime
}

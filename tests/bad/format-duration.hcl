# "90 days" is not a duration ("90d" or "2160h" is).

issuer "internal" {
  type        = "ca"
  common_name = "Internal Services CA"
}

certificate "api" {
  dns_names = ["api.example.internal"]
  issuer    = issuer.internal
  validity  = "90 days" # expect: error format::duration
}

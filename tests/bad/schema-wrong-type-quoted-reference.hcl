# A reference written as a string: berth needs the address unquoted.

issuer "internal" {
  type        = "ca"
  common_name = "Internal Services CA"
}

certificate "api" {
  dns_names = ["api.example.internal"]
  issuer    = "issuer.internal" # expect: error schema::wrong-type
}

# `strng` is not a type.

variable "owner" {
  type    = strng # expect: error var::type
  default = "platform-team"
}

environment "sandbox" {
  owner = var.owner
  ttl   = "24h"
}

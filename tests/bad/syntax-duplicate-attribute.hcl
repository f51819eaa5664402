# An attribute set twice in one block.

environment "qa" {
  owner = "a"
  owner = "b" # expect: error syntax::duplicate-attribute
  ttl   = "48h"
}

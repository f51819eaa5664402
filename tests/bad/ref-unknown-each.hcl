# `each` used in a block that has no for_each.

host "cache" {
  instance_type = "r6i.xlarge"
  ami           = "ami-0b1a5710c0ffee001"
  zone          = "eu-west-1a"
  tags          = { shard = each.key } # expect: error ref::unknown
}

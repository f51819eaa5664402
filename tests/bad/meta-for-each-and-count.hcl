# A block takes for_each or count, not both.

host "cache" {
  for_each      = toset(["eu-west-1a", "eu-west-1b"])
  count         = 2 # expect: error meta::for-each
  instance_type = "r6i.xlarge"
  ami           = "ami-0b1a5710c0ffee001"
  zone          = each.key
}

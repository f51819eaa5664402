# An IPv4 prefix cannot be longer than 32 bits.

host "apps" {
  instance_type = "m6i.4xlarge"
  ami           = "ami-0b1a5710c0ffee001"
  zone          = "eu-west-1a"

  docker {
    address_pool_base = "172.20.0.0/33" # expect: error format::cidr
  }
}

# cidrsubnet cannot carve subnet 16 out of 4 new bits (there are 16 subnets, 0 to 15).

locals {
  vpc = "10.40.0.0/16"
}

host "nat" {
  instance_type = "c6i.large"
  ami           = "ami-0b1a5710c0ffee001"
  zone          = "eu-west-1a"
  tags          = { subnet = cidrsubnet(local.vpc, 4, 16) } # expect: error eval::function
}

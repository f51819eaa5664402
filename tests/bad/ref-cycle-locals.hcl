# Two locals computed from each other.

locals {
  cidr_base = cidrsubnet(local.vpc_cidr, 4, 0)
  vpc_cidr  = cidrsubnet(local.cidr_base, -4, 0) # expect: error ref::cycle
}

host "nat" {
  instance_type = "c6i.large"
  ami           = "ami-0b1a5710c0ffee001"
  zone          = "eu-west-1a"
  tags          = { network = local.vpc_cidr }
}

# A map lookup with a key the map does not have; berth suggests the closest key.

variable "region" {
  type    = string
  default = "eu-west-2"
}

locals {
  amis = {
    "eu-west-1"    = "ami-0b1a5710c0ffee001"
    "eu-central-1" = "ami-0c0ffee0c0ffee002"
  }
}

host "bastion" {
  instance_type = "t3.medium"
  ami           = "ami-0b1a5710c0ffee001"
  zone          = "${var.region}a"
  tags          = { base_ami = local.amis[var.region] } # expect: error eval::index
}

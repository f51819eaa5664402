# Three zones, indexed 0 to 2; the fourth host asks for a fourth zone.

locals {
  zones = ["eu-west-1a", "eu-west-1b", "eu-west-1c"]
}

host "web" {
  count         = 4
  instance_type = "m6i.xlarge"
  ami           = "ami-0b1a5710c0ffee001"
  zone          = local.zones[count.index % 3]
  subnet        = "subnet-web-${local.zones[count.index]}" # expect: error eval::index
}

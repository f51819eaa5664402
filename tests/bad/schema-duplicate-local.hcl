# One local declared in two `locals` blocks.

locals {
  registry = "registry.example.internal"
}

locals {
  zones    = ["eu-west-1a", "eu-west-1b"]
  registry = "registry.mirror.internal" # expect: error schema::duplicate-name
}

host "mirror" {
  instance_type = "m6i.xlarge"
  ami           = "ami-0b1a5710c0ffee001"
  zone          = local.zones[0]
  tags          = { registry = local.registry }
}

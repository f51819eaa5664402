# A tenant module that, by mistake, includes the whole platform again.

variable "name" {
  type = string
}

module "platform" {
  source = "../"
}

host "tenant" {
  instance_type = "m6i.xlarge"
  ami           = "ami-0b1a5710c0ffee001"
  zone          = "eu-west-1a"
  tags          = { tenant = var.name }
}

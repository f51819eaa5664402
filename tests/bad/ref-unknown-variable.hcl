# A typo in a variable name: berth suggests the declared one.

variable "environment" {
  type    = string
  default = "staging"
}

host "jump" {
  instance_type = "t3.medium"
  ami           = "ami-0b1a5710c0ffee001"
  zone          = "eu-west-1a"
  tags          = { env = var.enviroment } # expect: error ref::unknown
}

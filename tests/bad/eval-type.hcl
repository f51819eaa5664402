# `+` adds numbers; strings are joined with a template or join().

variable "env" {
  type    = string
  default = "staging"
}

host "runner" {
  instance_type = "c6i.2xlarge"
  ami           = "ami-0b1a5710c0ffee001"
  zone          = "eu-west-1a"
  tags          = { Name = "ci-runner-" + var.env } # expect: error eval::type
}

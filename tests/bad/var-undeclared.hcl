# The run sets a variable the spec does not declare (a typo on the command line): berth
# suggests the declared name instead of ignoring the value.
# args: --var relase=2026.11.3
# expect-nowhere: error var::undeclared

variable "release" {
  type    = string
  default = "2026.11.2"
}

host "api" {
  instance_type = "m6i.xlarge"
  ami           = "ami-0b1a5710c0ffee001"
  zone          = "eu-west-1a"
  tags          = { release = var.release }
}

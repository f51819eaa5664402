# A required variable with no default, and the run passes no --var for it.

variable "subnet" { # expect: error var::missing
  type        = string
  description = "Subnet of the build hosts."
}

host "builder" {
  instance_type = "c6i.4xlarge"
  ami           = "ami-0b1a5710c0ffee001"
  zone          = "eu-west-1a"
  subnet        = var.subnet
}

# The default fails the variable's own validation.

variable "zookeeper_members" {
  type    = number
  default = 4 # expect: error var::validation

  validation {
    condition     = var.zookeeper_members % 2 == 1
    error_message = "An odd number of members keeps a majority through a partition."
  }
}

host "zk" {
  count         = var.zookeeper_members
  instance_type = "m6i.large"
  ami           = "ami-0b1a5710c0ffee001"
  zone          = "eu-west-1a"
}

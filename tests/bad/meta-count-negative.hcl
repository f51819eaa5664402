# A count computed below zero.

variable "replicas" {
  type    = number
  default = 2
}

host "worker" {
  count         = var.replicas - 3 # expect: error meta::for-each
  instance_type = "m6i.xlarge"
  ami           = "ami-0b1a5710c0ffee001"
  zone          = "eu-west-1a"
}

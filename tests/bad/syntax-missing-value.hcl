# An attribute left without its value while editing.

host "bastion" {
  instance_type = "t3.medium"
  ami           = "ami-0b1a5710c0ffee001"
  zone          = # expect: error syntax::parse
  subnet        = "subnet-mgmt-a"
}

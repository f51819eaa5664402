# `gp4` is not an EBS volume type.

host "db" {
  instance_type = "r6i.4xlarge"
  ami           = "ami-0b1a5710c0ffee001"
  zone          = "eu-west-1a"

  volume "data" {
    type   = "gp4" # expect: error schema::invalid-value
    size   = "2Ti"
    device = "/dev/sdf"
    mount  = "/mnt/data"
  }
}

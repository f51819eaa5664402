# Two volumes attached as the same device.

host "kafka" {
  instance_type = "i4i.4xlarge"
  ami           = "ami-0b1a5710c0ffee001"
  zone          = "eu-west-1a"

  volume "log-a" {
    size   = "2Ti"
    device = "/dev/sdf"
    mount  = "/mnt/log-a"
  }

  volume "log-b" { # expect: error volume::mount
    size   = "2Ti"
    device = "/dev/sdf"
    mount  = "/mnt/log-b"
  }
}

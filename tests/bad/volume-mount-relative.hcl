# A relative mount point.

host "files" {
  instance_type = "m6i.xlarge"
  ami           = "ami-0b1a5710c0ffee001"
  zone          = "eu-west-1a"

  volume "share" { # expect: error volume::mount
    size   = "1Ti"
    device = "/dev/sdf"
    mount  = "mnt/share"
  }
}

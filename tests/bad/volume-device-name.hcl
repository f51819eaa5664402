# /dev/sda is the root device; data volumes use /dev/sd[f-p].

host "git" {
  instance_type = "m6i.2xlarge"
  ami           = "ami-0b1a5710c0ffee001"
  zone          = "eu-west-1a"

  volume "repos" { # expect: error volume::mount
    size   = "1Ti"
    device = "/dev/sda"
    mount  = "/srv/git"
  }
}

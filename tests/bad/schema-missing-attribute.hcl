# A Docker host without its machine image.

host "builder" { # expect: error schema::missing-attribute
  instance_type = "c6i.4xlarge"
  zone          = "eu-west-1a"
  subnet        = "subnet-ci-a"

  volume "cache" {
    size   = "500Gi"
    device = "/dev/sdf"
    mount  = "/mnt/cache"
  }
}

# EBS limits the Terraform target relies on: IOPS over the type's maximum, throughput on a
# type without it.

host "db" {
  instance_type = "m6i.4xlarge"
  ami           = "ami-0123456789abcdef0"
  zone          = "eu-west-1a"

  volume "fast" { # expect: error volume::limits
    type   = "io1"
    size   = "2000Gi"
    iops   = 70000
    device = "/dev/sdf"
    mount  = "/mnt/fast"
  }

  volume "wide" { # expect: error volume::limits
    type       = "io2"
    size       = "100Gi"
    iops       = 1000
    throughput = 500
    device     = "/dev/sdg"
    mount      = "/mnt/wide"
  }
}

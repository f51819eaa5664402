# io2 is provisioned IOPS: it needs `iops`.

host "ledger-db" {
  instance_type = "r6i.4xlarge"
  ami           = "ami-0b1a5710c0ffee001"
  zone          = "eu-west-1a"

  volume "wal" { # expect: error volume::limits
    type   = "io2"
    size   = "500Gi"
    device = "/dev/sdg"
    mount  = "/mnt/wal"
  }
}

# Throughput is a gp3 setting; an io1 volume does not take it. The IOPS are also over io1's
# 50 per GiB (200 GiB allow 10,000): two problems with one volume.

host "metrics" {
  instance_type = "m6i.4xlarge"
  ami           = "ami-0b1a5710c0ffee001"
  zone          = "eu-west-1a"

  volume "tsdb" { # expect: error volume::limits; error volume::limits
    type       = "io1"
    size       = "200Gi"
    iops       = 12000
    throughput = 500
    device     = "/dev/sdf"
    mount      = "/mnt/tsdb"
  }
}

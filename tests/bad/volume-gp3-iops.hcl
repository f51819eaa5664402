# gp3 volumes stop at 16,000 IOPS; 40,000 needs io2.

host "db" {
  instance_type = "r6i.8xlarge"
  ami           = "ami-0b1a5710c0ffee001"
  zone          = "eu-west-1a"

  volume "data" { # expect: error volume::limits
    type   = "gp3"
    size   = "4Ti"
    iops   = 40000
    device = "/dev/sdf"
    mount  = "/mnt/data"
  }
}

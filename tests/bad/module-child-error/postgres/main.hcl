# A PostgreSQL host with one gp3 data volume sized for its IOPS.

variable "name" {
  type = string
}

variable "iops" {
  type    = number
  default = 3000
}

host "db" {
  name          = var.name
  instance_type = "r6i.4xlarge"
  ami           = "ami-0b1a5710c0ffee001"
  zone          = "eu-west-1a"

  volume "data" { # expect: error volume::limits
    type   = "gp3"
    size   = "1Ti"
    iops   = var.iops
    device = "/dev/sdf"
    mount  = "/var/lib/postgresql"
  }
}

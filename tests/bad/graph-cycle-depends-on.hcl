# Primary and replica database hosts each wait for the other to exist.

host "db-primary" { # expect: error graph::cycle
  instance_type = "r6i.4xlarge"
  ami           = "ami-0b1a5710c0ffee001"
  zone          = "eu-west-1a"
  depends_on    = [host.db-replica]
}

host "db-replica" {
  instance_type = "r6i.4xlarge"
  ami           = "ami-0b1a5710c0ffee001"
  zone          = "eu-west-1b"
  depends_on    = [host.db-primary]
}

# Instance types outside the catalogue, on a host and on a node pool.

host "big" {
  instance_type = "x1.64xlarge" # expect: error catalogue::instance-type
  ami           = "ami-0123456789abcdef0"
  zone          = "eu-west-1a"
}

cluster "c" {
  version = "1.31"
  region  = "eu-west-1"
  subnets = ["subnet-a", "subnet-b"]

  node_pool "p" {
    instance_type = "m6i.9xlarge" # expect: error catalogue::instance-type
    min           = 1
    max           = 2
  }
}
